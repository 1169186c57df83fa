//! `/orgs/{orgId}*` self-service behind the org-permission gate (§2.9, §9.7), custom org
//! roles and the "grant only what you hold" rule (AZ-03).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::helpers::{
    app, audit_actions, call, code, create_org, join, org_token, role_perms, tv, user, user_token,
};
use crate::orgs::member_roles;

struct Fixture {
    app: TestApp,
    admin: String,
    org: Uuid,
    other: Uuid,
    /// An `org_admin` of `org` and a token scoped to it with that role's permissions.
    boss: Uuid,
    boss_token: String,
}

async fn fixture() -> Fixture {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Acme").await;
    let other = create_org(&app, &admin, "Other").await;
    let boss = user(&app, "boss@example.com", &["base_user"]).await;
    join(&app, org, boss, "org_admin").await;
    let perms = role_perms(&app, "org_admin").await;
    let boss_token = org_token(
        boss,
        "boss@example.com",
        org,
        &["base_user", "org_admin"],
        &perms,
    );
    Fixture {
        app,
        admin,
        org,
        other,
        boss,
        boss_token,
    }
}

fn perms(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

#[tokio::test]
async fn the_org_gate_checks_scope_then_permission_9_7() {
    let f = fixture().await;
    let app = &f.app;
    let path = format!("/orgs/{}", f.org);
    let (status, body) = call(app, Method::GET, &path, Some(&f.boss_token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slug"], "acme");

    let (_, unscoped) = user_token(app, "u1@example.com", &["base_user"]).await;
    let (status, body) = call(app, Method::GET, &path, Some(&unscoped), None).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(body["error"]["message"], "Organization context required");

    let everything = role_perms(app, "org_admin").await;
    let elsewhere = org_token(
        f.boss,
        "boss@example.com",
        f.other,
        &["org_admin"],
        &everything,
    );
    for p in [path.clone(), "/orgs/not-a-uuid".to_owned()] {
        let (status, body) = call(app, Method::GET, &p, Some(&elsewhere), None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{p}"
        );
        assert_eq!(
            body["error"]["message"],
            "Token is not scoped to this organization"
        );
    }

    let reader = org_token(
        f.boss,
        "boss@example.com",
        f.org,
        &[],
        &perms(&["org:members:read"]),
    );
    let (status, body) = call(app, Method::GET, &path, Some(&reader), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS")
    );
    let (status, _) = call(
        app,
        Method::GET,
        &format!("{path}/members"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // system_admin passes without org context; super_admin is no bypass here
    let (status, _) = call(app, Method::GET, &path, Some(&f.admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(app, Method::GET, "/orgs/not-a-uuid", Some(&f.admin), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/orgs/{}", Uuid::new_v4()),
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "ORGANIZATION_NOT_FOUND")
    );
    let (_, sup) = user_token(app, "sup@example.com", &["super_admin"]).await;
    let (status, _) = call(app, Method::GET, &path, Some(&sup), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(app, Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    sqlx::query("update organizations set status = 'suspended' where id = $1")
        .bind(f.org)
        .execute(&app.platform.db)
        .await
        .expect("suspend");
    let (status, body) = call(app, Method::GET, &path, Some(&f.boss_token), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ORGANIZATION_SUSPENDED")
    );
}

#[tokio::test]
async fn org_admin_manages_own_org_and_never_another() {
    let f = fixture().await;
    let app = &f.app;
    let base = format!("/orgs/{}", f.org);
    let (status, body) = call(
        app,
        Method::PUT,
        &base,
        Some(&f.boss_token),
        Some(json!({"name": "Acme Two", "description": "d"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slug"], "acme-two");
    let (status, body) = call(
        app,
        Method::PUT,
        &base,
        Some(&f.boss_token),
        Some(json!({"name": "Other"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "ORGANIZATION_ALREADY_EXISTS")
    );

    let bob = user(app, "bob@example.com", &["base_user"]).await;
    let (status, _) = call(
        app,
        Method::POST,
        &format!("{base}/members"),
        Some(&f.boss_token),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = call(
        app,
        Method::GET,
        &format!("{base}/members?page_size=1&page=2"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(
        body["pagination"],
        json!({"page": 2, "page_size": 1, "total": 3})
    );
    let (status, _) = call(
        app,
        Method::PUT,
        &format!("{base}/members/{bob}/status"),
        Some(&f.boss_token),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tv(app, bob).await, 1);

    // a member of the other organisation cannot be touched through this one
    let stranger = user(app, "s@example.com", &["base_user"]).await;
    join(app, f.other, stranger, "org_member").await;
    let (status, body) = call(
        app,
        Method::DELETE,
        &format!("{base}/members/{stranger}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    assert_eq!(member_roles(app, f.other, stranger).await, ["org_member"]);
    // nor the other organisation itself
    let (status, _) = call(
        app,
        Method::POST,
        &format!("/orgs/{}/members", f.other),
        Some(&f.boss_token),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(member_roles(app, f.other, bob).await.is_empty());

    let (status, _) = call(
        app,
        Method::DELETE,
        &format!("{base}/members/{bob}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn adding_a_member_with_more_than_you_hold_is_refused_az_03() {
    let f = fixture().await;
    let app = &f.app;
    let mgr = user(app, "mgr@example.com", &["base_user"]).await;
    join(app, f.org, mgr, "org_manager").await;
    let mgr_perms = role_perms(app, "org_manager").await;
    let mgr_token = org_token(mgr, "mgr@example.com", f.org, &["org_manager"], &mgr_perms);
    let admin_role: Uuid = sqlx::query_scalar(
        "select id from roles where code = 'org_admin' and organization_id is null",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let bob = user(app, "bob@example.com", &["base_user"]).await;
    let path = format!("/orgs/{}/members", f.org);
    let (status, body) = call(
        app,
        Method::POST,
        &path,
        Some(&mgr_token),
        Some(json!({"user_id": bob, "role_ids": [admin_role]})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{body}"
    );
    assert!(
        body["error"]["details"]["permissions"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    assert!(
        member_roles(app, f.org, bob).await.is_empty(),
        "no partial write"
    );
    assert!(
        audit_actions(app)
            .await
            .contains(&"authz.escalation_denied".to_owned())
    );
    // the same manager may add with the default role
    let (status, _) = call(
        app,
        Method::POST,
        &path,
        Some(&mgr_token),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(member_roles(app, f.org, bob).await, ["org_member"]);

    // nor may it suspend or remove someone holding more than it does
    let boss_path = format!("{path}/{}", f.boss);
    let (status, body) = call(
        app,
        Method::PUT,
        &format!("{boss_path}/status"),
        Some(&mgr_token),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{body}"
    );
    let (status, _) = call(app, Method::DELETE, &boss_path, Some(&mgr_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(tv(app, f.boss).await, 0);
    assert_eq!(member_roles(app, f.org, f.boss).await, ["org_admin"]);
    let (status, _) = call(
        app,
        Method::PUT,
        &format!("{path}/{bob}/status"),
        Some(&mgr_token),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

async fn create_role(f: &Fixture, token: &str, body: Value) -> (StatusCode, Value) {
    call(
        &f.app,
        Method::POST,
        &format!("/orgs/{}/roles", f.org),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn custom_roles_hold_only_assignable_permissions_you_hold() {
    let f = fixture().await;
    let app = &f.app;
    let (status, body) = create_role(&f, &f.boss_token, json!({"code": "lead", "name": "Lead",
        "description": "Team lead", "level": 40, "permission_codes": ["org:members:read", "org:members:invite", "org:members:read"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "custom");
    assert_eq!(body["is_org_role"], true);
    assert_eq!(body["organization_id"], f.org.to_string());
    assert_eq!(body["level"], 40);
    let codes: Vec<&str> = body["permissions"]
        .as_array()
        .expect("perms")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(codes, ["org:members:invite", "org:members:read"]);
    let lead = body["id"].as_str().unwrap_or_default().to_owned();

    let count = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from roles where organization_id is not null")
            .fetch_one(&app.platform.db)
            .await
            .expect("count")
    };
    for (body, status, err) in [
        (
            json!({"code": "x", "name": "X", "permission_codes": ["org:roles:create"]}),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            json!({"code": "x", "name": "X", "permission_codes": ["users:delete"]}),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            json!({"code": "x", "name": "X", "permission_codes": ["org:nope"]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "org_admin", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "SYSTEM_ADMIN", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "x"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "two words", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "x", "name": "X", "level": -5}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "lead", "name": "Again"}),
            StatusCode::CONFLICT,
            "ROLE_ALREADY_EXISTS",
        ),
    ] {
        let (s, b) = create_role(&f, &f.boss_token, body.clone()).await;
        assert_eq!((s, code(&b)), (status, err), "{body}: {b}");
    }
    assert_eq!(count().await, 1, "no partial writes");

    // a caller holding org:roles:create but not org:update cannot hand org:update out
    let limited = org_token(
        f.boss,
        "boss@example.com",
        f.org,
        &[],
        &perms(&["org:roles:create", "org:read"]),
    );
    let (s, b) = create_role(
        &f,
        &limited,
        json!({"code": "y", "name": "Y", "permission_codes": ["org:update"]}),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let (s, _) = create_role(
        &f,
        &limited,
        json!({"code": "y", "name": "Y", "permission_codes": ["org:read"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // list, get, assignable
    let base = format!("/orgs/{}", f.org);
    let (_, body) = call(
        app,
        Method::GET,
        &format!("{base}/roles"),
        Some(&f.boss_token),
        None,
    )
    .await;
    let codes: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    for want in [
        "org_admin",
        "org_manager",
        "seller",
        "buyer",
        "org_member",
        "lead",
        "y",
    ] {
        assert!(codes.contains(&want), "{want} in {codes:?}");
    }
    assert!(!codes.contains(&"system_admin") && !codes.contains(&"base_user"));
    let (status, body) = call(
        app,
        Method::GET,
        &format!("{base}/roles/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::OK, Some("lead"))
    );
    let (_, body) = call(
        app,
        Method::GET,
        &format!("{base}/permissions/assignable"),
        Some(&f.boss_token),
        None,
    )
    .await;
    let codes: Vec<&str> = body["permissions"]
        .as_array()
        .expect("perms")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "org:members:invite",
            "org:members:read",
            "org:members:remove",
            "org:members:update",
            "org:read",
            "org:update"
        ]
    );
    assert!(
        audit_actions(app)
            .await
            .contains(&"organization.role_created".to_owned())
    );
}

#[tokio::test]
async fn updating_and_deleting_custom_roles() {
    let f = fixture().await;
    let app = &f.app;
    let (_, body) = create_role(
        &f,
        &f.boss_token,
        json!({"code": "lead", "name": "Lead", "permission_codes": ["org:read"]}),
    )
    .await;
    let lead = body["id"].as_str().unwrap_or_default().to_owned();
    let foreign: Uuid = sqlx::query_scalar(
        "insert into roles (code, name, type, is_org_role, organization_id)
         values ('theirs', 'Theirs', 'custom', true, $1) returning id",
    )
    .bind(f.other)
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let system: Uuid = sqlx::query_scalar(
        "select id from roles where code = 'org_member' and organization_id is null",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let base = format!("/orgs/{}/roles", f.org);
    let upd = json!({"name": "Renamed"});
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{system}"),
        Some(&f.boss_token),
        Some(upd.clone()),
    )
    .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::FORBIDDEN, "CANNOT_MODIFY_SYSTEM_ROLE")
    );
    let (s, b) = call(
        app,
        Method::DELETE,
        &format!("{base}/{system}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::FORBIDDEN, "CANNOT_MODIFY_SYSTEM_ROLE")
    );
    for id in [foreign, Uuid::new_v4()] {
        let (s, b) = call(
            app,
            Method::PUT,
            &format!("{base}/{id}"),
            Some(&f.boss_token),
            Some(upd.clone()),
        )
        .await;
        assert_eq!((s, code(&b)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
        let (s, _) = call(
            app,
            Method::GET,
            &format!("{base}/{id}"),
            Some(&f.boss_token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = call(
            app,
            Method::DELETE,
            &format!("{base}/{id}"),
            Some(&f.boss_token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/nope"),
        Some(&f.boss_token),
        Some(upd.clone()),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::BAD_REQUEST, "INVALID_INPUT"));
    let theirs: String = sqlx::query_scalar("select name from roles where id = $1")
        .bind(foreign)
        .fetch_one(&app.platform.db)
        .await
        .expect("name");
    assert_eq!(theirs, "Theirs");

    // holders' token versions move when the permissions change (AZ-02)
    let bob = user(app, "bob@example.com", &["base_user"]).await;
    join(app, f.org, bob, "lead").await;
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        Some(json!({"name": "Lead 2", "description": null})),
    )
    .await;
    assert_eq!((s, b["name"].as_str()), (StatusCode::OK, Some("Lead 2")));
    assert_eq!(tv(app, bob).await, 0, "a rename changes no permission");
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        Some(json!({"permission_codes": ["org:read", "org:members:read"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["permissions"].as_array().map(Vec::len), Some(2));
    assert_eq!(tv(app, bob).await, 1);
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        Some(json!({"permission_codes": ["org:roles:delete"]})),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(tv(app, bob).await, 1);

    // refused while assigned, then deleted
    let (s, b) = call(
        app,
        Method::DELETE,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "CONFLICT"));
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("/orgs/{}/members/{bob}", f.org),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        app,
        Method::GET,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // the code is free again
    let (s, _) = create_role(&f, &f.boss_token, json!({"code": "lead", "name": "Lead"})).await;
    assert_eq!(s, StatusCode::CREATED);
}
