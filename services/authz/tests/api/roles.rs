//! `/admin/roles`, `/admin/users/{userId}/roles` (§9.6, AZ-02, AZ-03) and the permission
//! registry (§9.12, §6.2), including the "claims stay small" check (§9.4).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::helpers::{app, audit_actions, call, code, user, user_token};

async fn base_role_codes(app: &TestApp, user: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "select r.code from user_base_roles ubr join roles r on r.id = ubr.role_id
          where ubr.user_id = $1 order by r.code",
    )
    .bind(user)
    .fetch_all(&app.platform.db)
    .await
    .expect("roles")
}

async fn tv(app: &TestApp, user: Uuid) -> i64 {
    sqlx::query_scalar("select token_version from users where id = $1")
        .bind(user)
        .fetch_one(&app.platform.db)
        .await
        .expect("tv")
}

#[tokio::test]
async fn system_roles_list_with_permissions() {
    let app = app().await;
    let (_, sup) = user_token(&app, "sup@example.com", &["super_admin"]).await;
    let (status, body) = call(&app, Method::GET, "/admin/roles", Some(&sup), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let roles = body["roles"].as_array().expect("roles");
    assert_eq!(roles.len(), 8);
    assert_eq!(roles[0]["code"], "system_admin");
    assert_eq!(roles[0]["type"], "system");
    assert_eq!(roles[0]["level"], 0);
    let member = roles
        .iter()
        .find(|r| r["code"] == "org_member")
        .expect("org_member");
    assert_eq!(member["is_org_role"], true);
    let perms: Vec<&str> = member["permissions"]
        .as_array()
        .expect("perms")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(perms, ["org:members:read", "org:read"]);
    let p = &member["permissions"][0];
    for key in [
        "id",
        "code",
        "name",
        "resource",
        "action",
        "category",
        "org_assignable",
    ] {
        assert!(p.get(key).is_some(), "{key}: {p}");
    }
    let (_, plain) = user_token(&app, "u@example.com", &["base_user"]).await;
    let (status, _) = call(&app, Method::GET, "/admin/roles", Some(&plain), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn replacing_base_roles_bumps_the_token_version_and_can_end_sessions_9_6() {
    let app = app().await;
    let (admin_id, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let target = user(&app, "t@example.com", &["base_user"]).await;
    sqlx::query(
        "with rt as (insert into refresh_tokens (user_id, token_hash, expires_at, family_id)
                     values ($1, 'h1', now() + interval '1 day', gen_random_uuid()) returning id)
         insert into sessions (user_id, refresh_token_id, expires_at)
         select $1, id, now() + interval '1 day' from rt",
    )
    .bind(target)
    .execute(&app.platform.db)
    .await
    .expect("session");
    let path = format!("/admin/users/{target}/roles");
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"role_codes": ["base_user", "super_admin"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions_revoked"], false);
    let codes: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert_eq!(codes, ["super_admin", "base_user"]);
    assert_eq!(
        base_role_codes(&app, target).await,
        ["base_user", "super_admin"]
    );
    assert_eq!(
        tv(&app, target).await,
        1,
        "bumped even without revoke_sessions"
    );
    let live: i64 = sqlx::query_scalar(
        "select count(*) from sessions where user_id = $1 and terminated = false",
    )
    .bind(target)
    .fetch_one(&app.platform.db)
    .await
    .expect("count");
    assert_eq!(live, 1);
    assert!(
        !audit_actions(&app).await.iter().any(|a| a == "logout.all"),
        "no logout.all without revoke_sessions"
    );

    let ids: Vec<String> =
        sqlx::query_scalar("select id::text from roles where code = 'base_user'")
            .fetch_all(&app.platform.db)
            .await
            .expect("ids");
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"role_ids": ids, "revoke_sessions": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions_revoked"], true);
    assert_eq!(base_role_codes(&app, target).await, ["base_user"]);
    assert_eq!(tv(&app, target).await, 2);
    let (live, revoked): (i64, i64) = sqlx::query_as(
        "select (select count(*) from sessions where user_id = $1 and terminated = false),
                (select count(*) from refresh_tokens where user_id = $1 and revoked = true)",
    )
    .bind(target)
    .fetch_one(&app.platform.db)
    .await
    .expect("counts");
    assert_eq!((live, revoked), (0, 1));
    // §5.3: revoke_sessions is a logout-all, audited in the same transaction
    let (actor, subject, details): (Option<Uuid>, Option<Uuid>, Value) = sqlx::query_as(
        "select (payload->>'user_id')::uuid, (payload->'details'->>'subject_user_id')::uuid,
                payload->'details'
           from outbox where topic = 'audit.logout.all'",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("one logout.all row");
    assert_eq!(
        (actor, subject),
        (Some(admin_id), Some(target)),
        "{details}"
    );
    assert_eq!(details["sessions_terminated"], 1);
    assert_eq!(details["refresh_tokens_revoked"], 1);
    let (status, body) = call(&app, Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["roles"][0]["code"], "base_user");
    let _ = admin_id;
}

#[tokio::test]
async fn role_replacement_bad_input_and_escalation_az_03() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (sup_id, sup) = user_token(&app, "sup@example.com", &["super_admin"]).await;
    let target = user(&app, "t@example.com", &["base_user"]).await;
    let root2 = user(&app, "root2@example.com", &["system_admin"]).await;
    let path = format!("/admin/users/{target}/roles");
    for (body, status, field) in [
        (
            json!({"role_codes": ["base_user", "wizard"]}),
            StatusCode::BAD_REQUEST,
            "role_codes",
        ),
        (
            json!({"role_codes": ["org_admin"]}),
            StatusCode::BAD_REQUEST,
            "role_codes",
        ),
        (
            json!({"role_ids": ["nope"]}),
            StatusCode::BAD_REQUEST,
            "role_ids",
        ),
        (
            json!({"role_ids": [Uuid::new_v4()]}),
            StatusCode::BAD_REQUEST,
            "role_ids",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "role_codes"),
    ] {
        let (got, resp) = call(&app, Method::PUT, &path, Some(&admin), Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {resp}");
        assert_eq!(code(&resp), "INVALID_INPUT");
        assert_eq!(resp["error"]["details"]["field"], field, "{body}");
    }
    // a super_admin can neither grant system_admin (to anyone, itself included) nor remove it
    for (who, body) in [
        (target, json!({"role_codes": ["system_admin"]})),
        (
            sup_id,
            json!({"role_codes": ["super_admin", "system_admin"]}),
        ),
        (root2, json!({"role_codes": ["base_user"]})),
    ] {
        let (got, resp) = call(
            &app,
            Method::PUT,
            &format!("/admin/users/{who}/roles"),
            Some(&sup),
            Some(body),
        )
        .await;
        assert_eq!(
            (got, code(&resp)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{resp}"
        );
    }
    assert_eq!(
        base_role_codes(&app, target).await,
        ["base_user"],
        "no change"
    );
    assert_eq!(base_role_codes(&app, root2).await, ["system_admin"]);
    assert_eq!(tv(&app, target).await, 0, "no partial writes");
    let (got, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&sup),
        Some(json!({"role_codes": ["base_user", "super_admin"]})),
    )
    .await;
    assert_eq!(
        got,
        StatusCode::OK,
        "§9.8: super_admin may assign other base roles"
    );
    let ghost = Uuid::new_v4();
    let (got, resp) = call(
        &app,
        Method::PUT,
        &format!("/admin/users/{ghost}/roles"),
        Some(&admin),
        Some(json!({"role_codes": []})),
    )
    .await;
    assert_eq!(
        (got, code(&resp)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );
}

fn slice(service: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"code": format!("{service}:action{i:03}"), "resource": service, "action": format!("action{i:03}"), "name": format!("{service} {i}")}))
        .collect()
}

/// Registers an m2m client `client_id` with `scopes` and returns a service token for it.
pub async fn service_token(app: &TestApp, admin: &str, client_id: &str, scopes: &[&str]) -> String {
    let (status, body) = call(
        app,
        Method::POST,
        "/admin/m2m-clients",
        Some(admin),
        Some(json!({"client_id": client_id, "name": "S", "scopes": scopes})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = body["client_secret"].as_str().expect("secret");
    let (status, body) = call(app, Method::POST, "/oauth/token", None, Some(json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}))).await;
    assert_eq!(status, StatusCode::OK);
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn register_reconciles_a_slice_and_prunes_out_of_roles_9_12() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let svc = service_token(&app, &admin, "billing", &["permissions:register"]).await;
    let weak = service_token(&app, &admin, "weak", &["other"]).await;
    let (_, plain) = user_token(&app, "u@example.com", &["base_user"]).await;
    let body = json!({"service": "billing", "permissions": slice("billing", 3)});
    for token in [&weak, &plain] {
        let (status, resp) = call(
            &app,
            Method::POST,
            "/admin/permissions/register",
            Some(token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{resp}");
    }
    let (status, resp) = call(
        &app,
        Method::POST,
        "/admin/permissions/register",
        Some(&svc),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp, json!({"service": "billing", "upserted_count": 3}));
    sqlx::query("insert into role_permissions (role_id, permission_id)
                 select r.id, p.id from roles r, permissions p where r.code = 'seller' and p.service = 'billing'")
        .execute(&app.platform.db).await.expect("grant");
    // keep 0 and 1 (renamed), drop 2
    let mut list = slice("billing", 2);
    list[0]["name"] = json!("Renamed");
    let (status, resp) = call(
        &app,
        Method::POST,
        "/admin/permissions/register",
        Some(&admin),
        Some(json!({"service": "billing", "permissions": list})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["upserted_count"], 2);
    assert_eq!(resp["pruned_codes"], json!(["billing:action002"]));
    let (name, in_roles): (String, i64) = sqlx::query_as(
        "select (select name from permissions where code = 'billing:action000'),
                (select count(*) from role_permissions rp join permissions p on p.id = rp.permission_id where p.service = 'billing')",
    )
    .fetch_one(&app.platform.db).await.expect("state");
    assert_eq!(
        (name.as_str(), in_roles),
        ("Renamed", 2),
        "pruned codes cascade out of roles"
    );
}

#[tokio::test]
async fn register_bad_input_core_reserved_and_foreign_codes() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let before: i64 = sqlx::query_scalar("select count(*) from permissions")
        .fetch_one(&app.platform.db)
        .await
        .expect("n");
    for (body, status, want) in [
        (
            json!({"service": "core", "permissions": []}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"service": "Bad Name", "permissions": []}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"service": "billing", "permissions": [{"code": "USERS:READ", "resource": "u", "action": "r"}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"service": "billing", "permissions": [{"code": "a:b", "resource": "a", "action": "b"}, {"code": "a:b", "resource": "a", "action": "b"}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"service": "billing", "permissions": [{"code": "users:read", "resource": "users", "action": "read"}]}),
            StatusCode::CONFLICT,
            "CONFLICT",
        ),
        (
            json!({"service": "billing"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
    ] {
        let (got, resp) = call(
            &app,
            Method::POST,
            "/admin/permissions/register",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!((got, code(&resp)), (status, want), "{body}: {resp}");
    }
    let after: i64 = sqlx::query_scalar("select count(*) from permissions")
        .fetch_one(&app.platform.db)
        .await
        .expect("n");
    assert_eq!(before, after, "no partial writes; core untouched");
}

#[tokio::test]
async fn claims_stay_small_an_app_token_carries_only_its_slice_9_4() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    for service in ["alpha", "beta", "gamma"] {
        let (status, resp) = call(
            &app,
            Method::POST,
            "/admin/permissions/register",
            Some(&admin),
            Some(json!({"service": service, "permissions": slice(service, 100)})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{resp}");
    }
    let member = user(&app, "m@example.com", &["base_user", "seller"]).await;
    sqlx::query("insert into role_permissions (role_id, permission_id)
                 select r.id, p.id from roles r, permissions p
                  where r.code = 'seller' and r.organization_id is null and p.service in ('alpha', 'beta', 'gamma')")
        .execute(&app.platform.db).await.expect("grant 300");
    let (status, _) = call(
        &app,
        Method::POST,
        "/admin/apps",
        Some(&admin),
        Some(json!({"code": "alpha-app", "name": "Alpha", "service_codes": ["alpha"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let mut conn = app.platform.db.acquire().await.expect("conn");
    let scope = auth_tokens::load_app(&mut conn, "alpha-app")
        .await
        .expect("load")
        .expect("app");
    let all = auth_tokens::assemble(&mut conn, member, None, None)
        .await
        .expect("grants");
    let scoped = auth_tokens::assemble(&mut conn, member, Some(&scope), None)
        .await
        .expect("grants");
    let core: Vec<String> =
        sqlx::query_scalar("select code from permissions where service = 'core'")
            .fetch_all(&app.platform.db)
            .await
            .expect("core");
    assert!(all.permissions.len() >= 300, "{}", all.permissions.len());
    let foreign: Vec<&String> = scoped
        .permissions
        .iter()
        .filter(|p| !p.starts_with("alpha:") && !core.contains(p))
        .collect();
    assert!(foreign.is_empty(), "only alpha + core: {foreign:?}");
    assert_eq!(
        scoped
            .permissions
            .iter()
            .filter(|p| p.starts_with("alpha:"))
            .count(),
        100
    );

    let identity = auth_tokens::UserIdentity {
        id: member,
        email: "m@example.com".into(),
        first_name: "M".into(),
        last_name: "U".into(),
        display_name: String::new(),
        auth_provider: "local".into(),
        namespace: "default".into(),
        token_version: 0,
    };
    let sign = |grants: &auth_tokens::Grants, app_scope: Option<&auth_tokens::AppScope>| {
        let spec = auth_tokens::AccessSpec {
            user: &identity,
            grants,
            app: app_scope,
            session_id: Uuid::new_v4(),
            remember_me: false,
            impersonator: None,
        };
        let claims = app
            .platform
            .signer
            .access_claims(&spec, chrono::Utc::now().timestamp())
            .expect("claims");
        app.platform.signer.encode_access(&claims).expect("sign")
    };
    let big = sign(&all, None);
    let small = sign(&scoped, Some(&scope));
    let verified = app
        .platform
        .verifier
        .verify_access(&small)
        .await
        .expect("valid token");
    assert_eq!(verified.app_code, "alpha-app");
    assert!(
        !verified
            .permissions
            .iter()
            .any(|p| p.starts_with("beta:") || p.starts_with("gamma:"))
    );
    assert!(
        small.len() * 2 < big.len(),
        "app token {} bytes vs unscoped {} bytes",
        small.len(),
        big.len()
    );
}
