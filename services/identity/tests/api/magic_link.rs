//! Magic links (§2.5, §5.6) against a real SMTP server: ML-01..06, MFA-09, PW-07.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::support::*;
use testkit::{SmtpSink, link_param};

/// A live link for `user` written straight to the database; returns the clear token.
async fn link_for(
    app: &testkit::TestApp,
    user: Uuid,
    app_code: Option<&str>,
    ttl_secs: i64,
) -> String {
    let token = format!("tok{}", Uuid::new_v4().simple());
    sqlx::query(
        "insert into magic_links (user_id, email, token_hash, app_code, expires_at)
         select id, email, $2, $3, now() + make_interval(secs => $4) from users where id = $1",
    )
    .bind(user)
    .bind(identity::flows::email::token_hash(&token))
    .bind(app_code)
    .bind(ttl_secs as f64)
    .execute(&app.platform.db)
    .await
    .expect("link");
    token
}

async fn verify(app: &testkit::TestApp, body: Value) -> (StatusCode, Value) {
    post(app, "/auth/magic-link/verify", &body, None).await
}

#[tokio::test]
async fn ml_03_04_05_the_link_from_the_real_message_signs_in_once() {
    let smtp = SmtpSink::start().await;
    let vars = smtp.vars();
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = start(&refs).await;
    let id = user_in(&app, "ada@example.com", "default", "pending").await;
    exec(&app, "update users set email_verified = false").await;

    let resp = reqwest::Client::new()
        .post(app.api("/auth/magic-link/request"))
        .header("x-forwarded-host", "evil.test")
        .header("forwarded", "host=evil.test")
        .json(&json!({"email": " ADA@example.com "}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.text().await.expect("body").is_empty());
    let message = smtp.wait_for("ada@example.com", 1).await;
    assert!(message.contains("Subject: Your sign-in link"), "{message}");
    // ML-04: the configured origin, whatever the request's host headers said
    assert!(
        message.contains("https://app.example.test/auth/magic-link/verify?token="),
        "{message}"
    );
    assert!(!message.contains("evil.test"));
    let token = link_param(&message, "token");
    assert_eq!(token.len(), 48, "288 random bits (ML-03)");
    // ML-03: only the hash is stored
    let stored: String = sqlx::query_scalar("select token_hash from magic_links")
        .fetch_one(&app.platform.db)
        .await
        .expect("row");
    assert_eq!(stored, identity::flows::email::token_hash(&token));

    // ML-05: a scanner's HEAD and GET do not consume the link
    for method in [Method::HEAD, Method::GET] {
        let resp = reqwest::Client::new()
            .request(
                method.clone(),
                app.api(&format!("/auth/magic-link/verify?token={token}")),
            )
            .send()
            .await
            .expect("scanner");
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let unconsumed = count(
        &app,
        "select count(*) from magic_links where consumed_at is null",
    )
    .await;
    assert_eq!(unconsumed, 1);

    let (status, reply) = verify(&app, json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let user = &reply["user"];
    assert_eq!(user["id"], id.to_string());
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["namespace"], "default");
    assert_eq!(user["email_verified"], true, "the link proves the mailbox");
    assert_eq!(user["status"], "active");
    assert!(user["last_login_at"].is_string());
    for hidden in ["password_hash", "two_factor_secret", "token_version"] {
        assert!(user.get(hidden).is_none(), "{hidden} leaked: {reply}");
    }
    for absent in ["roles", "permissions", "organization"] {
        assert!(reply.get(absent).is_none(), "{absent}: {reply}");
    }
    assert_eq!(reply["tokens"]["token_type"], "Bearer");
    let access = reply["tokens"]["access_token"].as_str().expect("token");
    assert_eq!(claims_of(access)["roles"], json!(["base_user"]));
    let (status, me) = send(&app, Method::GET, "/auth/me", None, Some(access)).await;
    assert_eq!(status, StatusCode::OK, "{me}");

    let (status, reply) = verify(&app, json!({"token": token})).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
    let actions = audit_actions(&app).await;
    for a in ["magic_link.requested", "magic_link.consumed"] {
        assert!(actions.contains(&a.to_owned()), "{a}: {actions:?}");
    }
    let payloads: Vec<String> = sqlx::query_scalar("select payload::text from outbox")
        .fetch_all(&app.platform.db)
        .await
        .expect("outbox");
    assert!(
        payloads.iter().all(|p| !p.contains(&token)),
        "token in an event"
    );
}

#[tokio::test]
async fn ml_01_twenty_concurrent_verifies_create_one_session() {
    let app = Arc::new(start(&[]).await);
    let id = user(&app, "ada@example.com").await;
    let token = link_for(&app, id, None, 900).await;
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, barrier, token) = (app.clone(), barrier.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            verify(&app, json!({"token": token})).await
        }));
    }
    let mut ok = 0;
    let mut refusals = Vec::new();
    for t in tasks {
        let (status, reply) = t.await.expect("task");
        if status == StatusCode::OK {
            ok += 1;
        } else {
            assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
            refusals.push(reply);
        }
    }
    assert_eq!(ok, 1);
    assert!(
        refusals.windows(2).all(|w| w[0] == w[1]),
        "one body for every refusal"
    );
    assert_eq!(count(&app, "select count(*) from sessions").await, 1);
    assert_eq!(count(&app, "select count(*) from refresh_tokens").await, 1);
}

#[tokio::test]
async fn ml_02_06_unknown_expired_and_foreign_tokens_are_one_401() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    let expired = link_for(&app, id, None, -1).await;
    let (status, invalid) = verify(&app, json!({"token": expired})).await;
    assert_error(status, &invalid, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
    for token in ["", "nope", &"x".repeat(5000), "' or 1=1 --", "\u{202e}"] {
        let (status, reply) = verify(&app, json!({"token": token})).await;
        assert_eq!(
            (status, &reply),
            (StatusCode::UNAUTHORIZED, &invalid),
            "{token:?}"
        );
    }
    // NUL characters are refused by the edge before the handler runs
    let (status, reply) = verify(&app, json!({"token": "\u{0}\u{202e}"})).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    // ML-06: a magic-link token is no reset or verification token, and the other way round
    let live = link_for(&app, id, None, 900).await;
    let (status, _) = post(
        &app,
        "/auth/password/reset",
        &json!({"token": live, "new_password": "Fresh2Start"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&app, "/auth/verify-email", &json!({"token": live}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let purpose = app
        .platform
        .signer
        .sign_purpose(
            jwt_verify::Purpose::PasswordReset,
            id,
            "ada@example.com",
            Uuid::new_v4(),
            std::time::Duration::from_secs(600),
        )
        .expect("reset token");
    let (status, reply) = verify(&app, json!({"token": purpose})).await;
    assert_eq!((status, reply), (StatusCode::UNAUTHORIZED, invalid.clone()));
    // the live link still works after all that
    let (status, reply) = verify(&app, json!({"token": live})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

#[tokio::test]
async fn pw_07_suspended_and_locked_accounts_get_no_tokens_and_keep_the_link() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    let token = link_for(&app, id, None, 900).await;
    exec(
        &app,
        "update users set locked_until = now() + interval '10 minutes'",
    )
    .await;
    let (status, reply) = verify(&app, json!({"token": token})).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    exec(
        &app,
        "update users set locked_until = null, status = 'suspended'",
    )
    .await;
    let (status, reply) = verify(&app, json!({"token": token})).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
    assert_eq!(
        count(
            &app,
            "select count(*) from magic_links where consumed_at is null"
        )
        .await,
        1
    );
    // a suspended account is sent nothing
    let (status, _) = post(
        &app,
        "/auth/magic-link/request",
        &json!({"email": "ada@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(count(&app, "select count(*) from magic_links").await, 1);
    exec(&app, "update users set status = 'active'").await;
    let (status, _) = verify(&app, json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn mfa_09_a_totp_account_needs_its_code_with_the_link() {
    let app = start(&[]).await;
    let id = totp_user(&app, "ada@example.com").await;
    let token = link_for(&app, id, None, 900).await;
    let (status, reply) = verify(&app, json!({"token": token})).await;
    assert_eq!(
        (status, reply),
        (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
    );
    let wrong = wrong_totp_code(TOTP_SECRET);
    let (status, reply) = verify(&app, json!({"token": token, "two_factor_code": wrong})).await;
    assert_eq!(
        (status, reply),
        (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from magic_links where consumed_at is null"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "select failed_login_attempts::bigint from users").await,
        1
    );
    let code = totp_code(TOTP_SECRET, 0);
    let (status, reply) = verify(&app, json!({"token": token, "two_factor_code": code})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(
        audit_actions(&app)
            .await
            .contains(&"2fa.verified".to_owned())
    );
}

#[tokio::test]
async fn request_input_unknown_addresses_app_policy_and_the_hourly_quota() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    for body in [
        json!({"email": "not an email"}),
        json!({"email": ""}),
        json!({"email": "a@b"}),
    ] {
        let (status, reply) = post(&app, "/auth/magic-link/request", &body, None).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert_eq!(reply["error"]["details"]["field"], "email");
    }
    for raw in ["{", "[]", "{\"email\": [1]}", "null", "{}"] {
        let (status, reply) = post_raw(
            &app,
            "/auth/magic-link/request",
            "application/json",
            raw.into(),
        )
        .await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        let (status, reply) = post_raw(
            &app,
            "/auth/magic-link/verify",
            "application/json",
            raw.into(),
        )
        .await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    }
    let big = json!({"email": format!("{}@example.com", "a".repeat(10 * 1024 * 1024))});
    let (status, _) = post(&app, "/auth/magic-link/request", &big, None).await;
    assert!(status.is_client_error(), "{status}");

    let (status, reply) = post(
        &app,
        "/auth/magic-link/request",
        &json!({"email": "nobody@example.com"}),
        None,
    )
    .await;
    assert_eq!((status, reply), (StatusCode::NO_CONTENT, Value::Null));
    assert!(
        audit_actions(&app)
            .await
            .contains(&"magic_link.request_unknown".to_owned())
    );
    assert_eq!(count(&app, "select count(*) from magic_links").await, 0);

    // an app that does not allow magic links gets none; one that does scopes the tokens
    app_row(&app, "pw-only", true, "active").await;
    exec(
        &app,
        "update apps set allowed_auth_methods = array['password'] where code = 'pw-only'",
    )
    .await;
    let (status, _) = post(
        &app,
        "/auth/magic-link/request",
        &json!({"email": "ada@example.com", "app_code": "pw-only"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(count(&app, "select count(*) from magic_links").await, 0);
    app_row(&app, "shop", true, "active").await;
    let (status, _) = post(
        &app,
        "/auth/magic-link/request",
        &json!({"email": "ada@example.com", "app_code": "shop"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let row_app: Option<String> = sqlx::query_scalar("select app_code from magic_links")
        .fetch_one(&app.platform.db)
        .await
        .expect("row");
    assert_eq!(row_app.as_deref(), Some("shop"));
    let token = link_for(&app, id, Some("shop"), 900).await;
    let (status, reply) = verify(&app, json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let claims = claims_of(reply["tokens"]["access_token"].as_str().expect("token"));
    assert_eq!(claims["app_code"], "shop");
    assert_eq!(
        count(&app, "select count(*) from user_apps").await,
        1,
        "auto-granted"
    );

    // ML-09: at most five requests per address and hour, known or not
    for _ in 0..3 {
        let (status, _) = post(
            &app,
            "/auth/magic-link/request",
            &json!({"email": "ada@example.com"}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, reply) = post(
        &app,
        "/auth/magic-link/request",
        &json!({"email": "ada@example.com"}),
        None,
    )
    .await;
    assert_error(
        status,
        &reply,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
    );
}
