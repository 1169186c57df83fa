//! `/admin/apps*`, user app grants and `/me/apps` (contract §2.8, §2.11, §9.5, §9.8).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{TestApp, TestClaims};
use uuid::Uuid;

use crate::helpers::{app, call, code, user, user_token};

async fn create(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, resp) = call(app, Method::POST, "/admin/apps", Some(admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{resp}");
    resp
}

async fn apps_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from apps")
        .fetch_one(&app.platform.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn app_crud_follows_the_app_record_shape() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let created = create(&app, &admin, json!({"code": "shop", "name": "Shop"})).await;
    for key in [
        "id",
        "code",
        "name",
        "description",
        "allowed_redirect_urls",
        "service_codes",
        "auto_grant_on_signup",
        "status",
        "allowed_email_domains",
        "allowed_auth_methods",
        "registration_namespaces",
        "read_namespaces",
        "webhooks",
        "linked_app_codes",
        "created_at",
        "updated_at",
    ] {
        assert!(created.get(key).is_some(), "{key} missing: {created}");
    }
    assert_eq!(created["service_codes"], json!(["shop"]));
    assert_eq!(created["status"], "active");
    assert_eq!(created["auto_grant_on_signup"], false);
    assert!(created.get("deleted_at").is_none());
    let id = created["id"].as_str().expect("id").to_owned();

    let full = create(&app, &admin, json!({
        "code": "portal", "name": "Portal", "description": "d",
        "allowed_redirect_urls": ["https://portal.example.com/cb"],
        "service_codes": ["portal", "billing"], "auto_grant_on_signup": true,
        "allowed_email_domains": ["Example.com"], "allowed_auth_methods": ["password", "google"],
        "frontend_url": "https://portal.example.com", "registration_namespace": "portal",
        "read_namespaces": ["portal", "default"], "linked_app_codes": ["shop"],
        "webhooks": [{"url": "https://hooks.example.com/x", "events": ["user.registered"]}],
    })).await;
    assert_eq!(full["allowed_email_domains"], json!(["example.com"]));
    assert_eq!(full["webhooks"][0]["enabled"], true);
    assert_eq!(full["linked_app_codes"], json!(["shop"]));

    let path = format!("/admin/apps/{}", full["id"].as_str().expect("id"));
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({
            "code": "portal", "name": "Portal 2", "frontend_url": "", "webhooks": [],
            "status": "inactive",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Portal 2");
    assert!(
        patched.get("frontend_url").is_none(),
        "\"\" clears: {patched}"
    );
    assert_eq!(patched["webhooks"], json!([]));
    assert_eq!(patched["status"], "inactive");
    assert_eq!(
        patched["service_codes"],
        json!(["portal", "billing"]),
        "untouched fields stay"
    );
    let (status, body) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"code": "other"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"]["field"], "code");

    let (_, list) = call(&app, Method::GET, "/admin/apps", Some(&admin), None).await;
    assert_eq!(list["apps"].as_array().map(Vec::len), Some(2));
    let shop = format!("/admin/apps/{id}");
    let (status, _) = call(&app, Method::DELETE, &shop, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&app, Method::GET, &shop, Some(&admin), None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, _) = call(&app, Method::DELETE, &shop, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(&app, Method::GET, "/admin/apps", Some(&admin), None).await;
    assert_eq!(list["apps"].as_array().map(Vec::len), Some(1));
    let deleted_at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select deleted_at from apps where code = 'shop'")
            .fetch_one(&app.platform.db)
            .await
            .expect("row kept");
    assert!(deleted_at.is_some(), "soft delete");
    let audits: i64 =
        sqlx::query_scalar("select count(*) from outbox where topic like 'audit.app.%'")
            .fetch_one(&app.platform.db)
            .await
            .expect("outbox");
    assert_eq!(audits, 4);
}

#[tokio::test]
async fn app_bad_input_is_refused_without_partial_writes() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    create(&app, &admin, json!({"code": "shop", "name": "Shop"})).await;
    let org = Uuid::new_v4();
    let cases = [
        (
            json!({"code": "a b", "name": "x"}),
            StatusCode::BAD_REQUEST,
            "code",
        ),
        (
            json!({"code": "x", "name": " "}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            json!({"code": "x", "name": "x", "status": "gone"}),
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            json!({"code": "x", "name": "x", "frontend_url": "javascript:alert(1)"}),
            StatusCode::BAD_REQUEST,
            "frontend_url",
        ),
        (
            json!({"code": "x", "name": "x", "allowed_redirect_urls": ["//evil.test"]}),
            StatusCode::BAD_REQUEST,
            "allowed_redirect_urls",
        ),
        (
            json!({"code": "x", "name": "x", "allowed_auth_methods": ["telepathy"]}),
            StatusCode::BAD_REQUEST,
            "allowed_auth_methods",
        ),
        (
            json!({"code": "x", "name": "x", "default_organization_id": "nope"}),
            StatusCode::BAD_REQUEST,
            "default_organization_id",
        ),
        (
            json!({"code": "x", "name": "x", "default_organization_id": org}),
            StatusCode::BAD_REQUEST,
            "default_organization_id",
        ),
        (
            json!({"code": "x", "name": "x", "default_role_code": "org_member"}),
            StatusCode::BAD_REQUEST,
            "default_role_code",
        ),
        (
            json!({"code": "x", "name": "x", "linked_app_codes": ["ghost"]}),
            StatusCode::BAD_REQUEST,
            "linked_app_codes",
        ),
        (
            json!({"code": "x", "name": "x", "webhooks": [{"url": "https://h.example.com", "events": ["user.deleted"]}]}),
            StatusCode::BAD_REQUEST,
            "webhooks",
        ),
        (
            json!({"code": "shop", "name": "Again"}),
            StatusCode::CONFLICT,
            "",
        ),
    ];
    for (body, status, field) in cases {
        let (got, resp) = call(
            &app,
            Method::POST,
            "/admin/apps",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(got, status, "{body}: {resp}");
        if !field.is_empty() {
            assert_eq!(code(&resp), "INVALID_INPUT", "{body}");
            assert_eq!(resp["error"]["details"]["field"], field, "{body}");
        }
    }
    // an org-scoped default role needs an org; a base role is not org-scoped
    let org: Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id) values ('Acme', 'acme', $1) returning id",
    )
    .bind(user(&app, "owner@example.com", &[]).await)
    .fetch_one(&app.platform.db)
    .await
    .expect("org");
    let (got, resp) = call(&app, Method::POST, "/admin/apps", Some(&admin), Some(json!({
        "code": "x", "name": "x", "default_organization_id": org, "default_role_code": "base_user"}))).await;
    assert_eq!(
        (got, resp["error"]["details"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("default_role_code"))
    );
    assert_eq!(apps_count(&app).await, 1, "no partial writes");
    let ok = create(
        &app,
        &admin,
        json!({
        "code": "x", "name": "x", "default_organization_id": org, "default_role_code": "seller"}),
    )
    .await;
    assert_eq!(ok["default_role_code"], "seller");
    for (path, status) in [
        ("/admin/apps/not-a-uuid".to_owned(), StatusCode::BAD_REQUEST),
        (
            format!("/admin/apps/{}", Uuid::new_v4()),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, _) = call(&app, Method::GET, &path, Some(&admin), None).await;
        assert_eq!(got, status, "{path}");
        let (got, _) = call(
            &app,
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"name": "n"})),
        )
        .await;
        assert_eq!(got, status, "{path}");
    }
}

#[tokio::test]
async fn apps_are_system_admin_only_9_8() {
    let app = app().await;
    let (_, sup) = user_token(&app, "sup@example.com", &["super_admin"]).await;
    let (_, plain) = user_token(&app, "u@example.com", &["base_user"]).await;
    for token in [Some(sup.as_str()), Some(plain.as_str()), None] {
        let (status, _) = call(&app, Method::GET, "/admin/apps", token, None).await;
        let want = if token.is_some() {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, want);
        let (status, _) = call(
            &app,
            Method::POST,
            "/admin/apps",
            token,
            Some(json!({"code": "c", "name": "n"})),
        )
        .await;
        assert_eq!(status, want);
    }
    assert_eq!(apps_count(&app).await, 0);
}

#[tokio::test]
async fn grant_list_and_revoke_bumps_the_token_version_9_5_az_02() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (_, sup) = user_token(&app, "sup@example.com", &["super_admin"]).await;
    let (member, member_token) = user_token(&app, "m@example.com", &["base_user"]).await;
    let shop = create(&app, &admin, json!({"code": "shop", "name": "Shop"})).await;
    let app_id = shop["id"].as_str().expect("id");
    let grant = format!("/admin/users/{member}/apps/{app_id}");
    for _ in 0..2 {
        let (status, body) = call(&app, Method::POST, &grant, Some(&sup), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "idempotent: {body}");
    }
    let (status, list) = call(
        &app,
        Method::GET,
        &format!("/admin/users/{member}/apps"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["apps"][0]["code"], "shop");
    let (status, mine) = call(&app, Method::GET, "/me/apps", Some(&member_token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["apps"].as_array().map(Vec::len), Some(1));

    let (status, _) = call(&app, Method::DELETE, &grant, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (tv, grant_status): (i64, String) = sqlx::query_as(
        "select u.token_version, ua.status from users u join user_apps ua on ua.user_id = u.id where u.id = $1",
    )
    .bind(member)
    .fetch_one(&app.platform.db)
    .await
    .expect("rows");
    assert_eq!((tv, grant_status.as_str()), (1, "revoked"));
    // the old token (tv 0) is refused on its next request
    let mut refused = false;
    for _ in 0..50 {
        let (status, body) = call(&app, Method::GET, "/me/apps", Some(&member_token), None).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(code(&body), "TOKEN_REVOKED");
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "a revoked grant revokes outstanding tokens");
    let fresh = TestClaims {
        tv: 1,
        ..TestClaims::user(member, &["base_user"])
    }
    .sign();
    let (_, mine) = call(&app, Method::GET, "/me/apps", Some(&fresh), None).await;
    assert_eq!(mine["apps"], json!([]));
    let (status, _) = call(&app, Method::DELETE, &grant, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "revoking again is a no-op");
    let tv: i64 = sqlx::query_scalar("select token_version from users where id = $1")
        .bind(member)
        .fetch_one(&app.platform.db)
        .await
        .expect("tv");
    assert_eq!(tv, 1, "no second bump");
    // re-grant re-activates
    let (status, _) = call(&app, Method::POST, &grant, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mine) = call(&app, Method::GET, "/me/apps", Some(&fresh), None).await;
    assert_eq!(mine["apps"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn grant_bad_ids() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (member, member_token) = user_token(&app, "m@example.com", &["base_user"]).await;
    let shop = create(&app, &admin, json!({"code": "shop", "name": "Shop"})).await;
    let app_id = shop["id"].as_str().expect("id");
    let ghost = Uuid::new_v4();
    for (path, status, want) in [
        (
            format!("/admin/users/{ghost}/apps/{app_id}"),
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
        ),
        (
            format!("/admin/users/{member}/apps/{ghost}"),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            format!("/admin/users/nope/apps/{app_id}"),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            format!("/admin/users/{member}/apps/nope"),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
    ] {
        for method in [Method::POST, Method::DELETE] {
            let (got, body) = call(&app, method.clone(), &path, Some(&admin), None).await;
            assert_eq!((got, code(&body)), (status, want), "{method} {path}");
        }
    }
    let (status, body) = call(
        &app,
        Method::GET,
        &format!("/admin/users/{ghost}/apps"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/admin/users/{member}/apps/{app_id}"),
        Some(&member_token),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "users cannot grant themselves apps"
    );
    let n: i64 = sqlx::query_scalar("select count(*) from user_apps")
        .fetch_one(&app.platform.db)
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn me_apps_hides_webhook_urls() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (member, member_token) = user_token(&app, "m@example.com", &["base_user"]).await;
    let secret_url = "https://hooks.slack.example.com/services/T000/B000/XXXXSECRET";
    let shop = create(
        &app,
        &admin,
        json!({"code": "shop", "name": "Shop",
               "webhooks": [{"url": secret_url, "events": ["user.registered"]}]}),
    )
    .await;
    let app_id = shop["id"].as_str().expect("id");
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/admin/users/{member}/apps/{app_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, mine) = call(&app, Method::GET, "/me/apps", Some(&member_token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["apps"][0]["code"], "shop");
    assert_eq!(mine["apps"][0]["webhooks"], json!([]));
    assert!(!mine.to_string().contains("XXXXSECRET"), "{mine}");
    // admins still see them
    let (_, list) = call(
        &app,
        Method::GET,
        &format!("/admin/users/{member}/apps"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["apps"][0]["webhooks"][0]["url"], secret_url);
}
