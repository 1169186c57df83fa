//! `POST /auth/login`: the §5.1 pipeline step by step.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn login_returns_the_contract_shape_and_records_everything() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    let (status, body) = login(&app, "  ADA@Example.com ", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], id.to_string());
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["status"], "active");
    assert_eq!(body["user"]["two_factor_enabled"], false);
    assert!(
        body["user"]["last_login_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(body["user"].get("password_hash").is_none());
    assert!(body.get("organization").is_none());
    assert_eq!(body["roles"], json!(["base_user"]));
    assert!(body["permissions"].is_array());
    let tokens = &body["tokens"];
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().expect("access");
    let claims = app
        .platform
        .verifier
        .verify_access(access)
        .await
        .expect("valid token");
    assert_eq!(claims.uid, id.to_string());
    assert_eq!(claims.roles, vec!["base_user".to_owned()]);
    assert!(
        app.platform
            .verifier
            .verify_refresh(tokens["refresh_token"].as_str().unwrap_or(""))
            .is_ok()
    );
    let sessions = count(
        &app,
        &format!(
            "select count(*) from sessions where id = '{}'",
            claims.session_id
        ),
    )
    .await;
    assert_eq!(sessions, 1);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"login.success".to_owned())
    );
    // the issued token works on /auth/me
    let (status, me) = send(&app, reqwest::Method::GET, "/auth/me", None, Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn pw_04_unknown_email_and_wrong_password_look_the_same() {
    let app = start(&[]).await;
    user(&app, "ada@example.com").await;
    let (s1, b1) = login(&app, "nobody@example.com", PASSWORD).await;
    let (s2, b2) = login(&app, "ada@example.com", "Wrong1Horse").await;
    assert_error(s1, &b1, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    assert_eq!((s1, &b1), (s2, &b2));
    let actions = audit_actions(&app).await;
    assert_eq!(actions.iter().filter(|a| *a == "login.failed").count(), 2);
    // an SSO-only account (no hash) answers the same too
    exec(&app, "update users set password_hash = null").await;
    let (s3, b3) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!((s3, &b3), (s1, &b1));
}

#[tokio::test]
async fn lockout_after_five_failures_then_even_the_right_password_is_refused() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    for _ in 0..5 {
        let (status, _) = login(&app, "ada@example.com", "Wrong1Horse").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let locked = count(&app, &format!(
        "select count(*) from users where id = '{id}' and locked_until > now() + interval '14 minutes'"
    ))
    .await;
    assert_eq!(
        locked, 1,
        "locked for the 15 minute default (decision §9.2)"
    );
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    // an expired lock lets the right password in and clears the counter
    exec(
        &app,
        "update users set locked_until = now() - interval '1 second'",
    )
    .await;
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        count(
            &app,
            "select coalesce(max(failed_login_attempts), 0)::bigint from users"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn per_account_limiter_answers_429_and_audits() {
    let app = start(&[("AUTH_ACCOUNT_ATTEMPTS_LIMIT", "3")]).await;
    user(&app, "ada@example.com").await;
    for _ in 0..3 {
        let (status, _) = login(&app, "ada@example.com", "Wrong1Horse").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert!(
        audit_actions(&app)
            .await
            .contains(&"login.rate_limited_account".to_owned())
    );
    // the limiter runs before anything else: unknown accounts are limited too
    for _ in 0..3 {
        login(&app, "ghost@example.com", PASSWORD).await;
    }
    let (status, _) = login(&app, "GHOST@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn per_account_limiter_is_a_no_op_without_redis() {
    let app = start(&[
        ("AUTH_ACCOUNT_ATTEMPTS_LIMIT", "1"),
        ("REDIS_DISABLED", "true"),
    ])
    .await;
    user(&app, "ada@example.com").await;
    for _ in 0..3 {
        let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn app_resolution_and_grants() {
    let app = start(&[("AUTH_ALLOW_BASE_USER_LOGIN", "false")]).await;
    let id = user(&app, "ada@example.com").await;
    let shop = app_row(&app, "shop", false, "active").await;
    app_row(&app, "old", false, "disabled").await;
    let open = app_row(&app, "open", true, "active").await;
    let try_app = |code: Option<&'static str>| {
        let mut body = json!({"email": "ada@example.com", "password": PASSWORD});
        if let Some(c) = code {
            body["app_code"] = json!(c);
        }
        body
    };
    let (status, body) = post(&app, "/auth/login", &try_app(None), None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(body["error"]["details"]["field"], "app_code");
    let (status, body) = post(&app, "/auth/login", &try_app(Some("nope")), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = post(&app, "/auth/login", &try_app(Some("old")), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "VALIDATION_ERROR");
    let (status, body) = post(&app, "/auth/login", &try_app(Some("shop")), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "FORBIDDEN");
    grant(&app, id, shop).await;
    let (status, body) = post(&app, "/auth/login", &try_app(Some("shop")), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["tokens"]["access_token"].as_str().unwrap_or_default();
    let claims = app
        .platform
        .verifier
        .verify_access(token)
        .await
        .expect("token");
    assert_eq!(claims.app_code, "shop");
    // auto-grant on first contact
    let (status, body) = post(&app, "/auth/login", &try_app(Some("open")), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let granted = count(&app, &format!(
        "select count(*) from user_apps where user_id = '{id}' and app_id = '{open}' and status = 'active'"
    ))
    .await;
    assert_eq!(granted, 1);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"user.app_provisioned".to_owned())
    );
}

#[tokio::test]
async fn default_app_code_applies_when_the_body_names_none() {
    let app = start(&[
        ("AUTH_ALLOW_BASE_USER_LOGIN", "false"),
        ("AUTH_DEFAULT_APP_CODE", "open"),
    ])
    .await;
    user(&app, "ada@example.com").await;
    app_row(&app, "open", true, "active").await;
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["tokens"]["access_token"].as_str().unwrap_or_default();
    let claims = app
        .platform
        .verifier
        .verify_access(token)
        .await
        .expect("token");
    assert_eq!(claims.app_code, "open");
}

#[tokio::test]
async fn account_states_suspended_deleted_and_pools() {
    let app = start(&[]).await;
    user_in(&app, "sus@example.com", "default", "suspended").await;
    let (status, body) = login(&app, "sus@example.com", PASSWORD).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    let gone = user(&app, "gone@example.com").await;
    exec(
        &app,
        &format!("update users set deleted_at = now(), status = 'deleted' where id = '{gone}'"),
    )
    .await;
    let (status, body) = login(&app, "gone@example.com", PASSWORD).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    // a user of another pool is unknown to the default pool, known to an app reading it
    user_in(&app, "pooled@example.com", "partners", "active").await;
    let (status, _) = login(&app, "pooled@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reader = app_row(&app, "partner-portal", true, "active").await;
    exec(
        &app,
        &format!("update apps set read_namespaces = '{{partners}}' where id = '{reader}'"),
    )
    .await;
    let body =
        json!({"email": "pooled@example.com", "password": PASSWORD, "app_code": "partner-portal"});
    let (status, body) = post(&app, "/auth/login", &body, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn organization_scope_gates() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    let body = |org: &str| json!({"email": "ada@example.com", "password": PASSWORD, "organization_id": org});
    let (status, resp) = post(&app, "/auth/login", &body("not-a-uuid"), None).await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(resp["error"]["details"]["field"], "organization_id");
    let (status, resp) = post(
        &app,
        "/auth/login",
        &body(&uuid::Uuid::new_v4().to_string()),
        None,
    )
    .await;
    assert_error(
        status,
        &resp,
        StatusCode::NOT_FOUND,
        "ORGANIZATION_NOT_FOUND",
    );
    let org: uuid::Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id) values ('Acme', 'acme', $1) returning id",
    )
    .bind(id)
    .fetch_one(&app.platform.db)
    .await
    .expect("org");
    let (status, resp) = post(&app, "/auth/login", &body(&org.to_string()), None).await;
    assert_error(
        status,
        &resp,
        StatusCode::FORBIDDEN,
        "NOT_ORGANIZATION_MEMBER",
    );
    exec(&app, &format!(
        "insert into organization_members (user_id, organization_id, status) values ('{id}', '{org}', 'active')"
    ))
    .await;
    let (status, resp) = post(&app, "/auth/login", &body(&org.to_string()), None).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["organization"]["slug"], "acme");
    assert_eq!(resp["roles"], json!(["org_member", "base_user"]));
}

#[tokio::test]
async fn bad_login_input_is_4xx_never_5xx() {
    let app = start(&[]).await;
    user(&app, "ada@example.com").await;
    let (status, body) = post_raw(
        &app,
        "/auth/login",
        "application/json",
        b"{\"email\":".to_vec(),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, body) = post(
        &app,
        "/auth/login",
        &json!({"email": "ada@example.com"}),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(body["error"]["details"]["field"], "password");
    let (status, body) = post(
        &app,
        "/auth/login",
        &json!({"email": ["x"], "password": "y"}),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, body) = post(
        &app,
        "/auth/login",
        &json!({"email": "a@b.co", "password": "y", "remember_me": "yes"}),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let big = format!(
        "{{\"email\":\"a@b.co\",\"password\":\"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    let (status, body) = post_raw(&app, "/auth/login", "application/json", big.into_bytes()).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "VALIDATION_ERROR",
    );
    for (email, password) in [
        ("' or 1=1 --", "' or ''='"),
        ("ädä@exämple.com", "пароль🔑"),
        ("ada@example.com", &"x".repeat(200)),
        ("", ""),
    ] {
        let (status, body) = login(&app, email, password).await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        );
    }
    // NUL characters are refused by the edge before the pipeline runs
    let (status, body) = login(&app, "ada@example.com\u{0000}", PASSWORD).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
}
