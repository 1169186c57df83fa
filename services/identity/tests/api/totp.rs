//! TOTP (§2.4, §5.8): setup, enable, the login challenge with real codes, replay refusal
//! (MFA-03..05), the per-account limit (MFA-06), disable with the token-version bump.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::support::*;

async fn login_with(
    app: &testkit::TestApp,
    email: &str,
    code: Option<&str>,
) -> (StatusCode, Value) {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(c) = code {
        body["two_factor_code"] = json!(c);
    }
    post(app, "/auth/login", &body, None).await
}

async fn totp_row(app: &testkit::TestApp) -> (Option<bool>, Option<String>, bool, i64) {
    sqlx::query_as(
        "select two_factor_enabled, two_factor_secret, two_factor_confirmed_at is not null,
                token_version from users",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("user")
}

#[tokio::test]
async fn mfa_03_04_setup_enable_then_login_with_a_code_and_replays_are_refused() {
    let app = start(&[]).await;
    user(&app, "ada@example.com").await;
    let access = access_token(&app, "ada@example.com").await;
    let (status, reply) = post(&app, "/auth/2fa/setup", &json!({}), None).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

    let (status, reply) = post(&app, "/auth/2fa/setup", &Value::Null, Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let secret = reply["secret"].as_str().expect("secret").to_owned();
    assert_eq!(secret.len(), 32, "160-bit secret in base32 (MFA-08)");
    assert_eq!(
        reply["provisioning_uri"],
        format!(
            "otpauth://totp/Vendidit:ada@example.com?secret={secret}&issuer=Vendidit&algorithm=SHA1&digits=6&period=30"
        )
    );
    // provisional: flagged enabled (§5.8 ⚠) but unconfirmed, so login needs no code yet
    let (enabled, stored, confirmed, _) = totp_row(&app).await;
    assert_eq!((enabled, confirmed), (Some(true), false));
    // MFA-08: sealed at rest, never the base32 seed itself
    let stored = stored.expect("stored seed");
    assert!(
        stored.starts_with("v1:") && !stored.contains(&secret),
        "{stored}"
    );
    let (status, _) = login_with(&app, "ada@example.com", None).await;
    assert_eq!(status, StatusCode::OK);
    // a second setup before enabling replaces the secret
    let (status, again) = post(&app, "/auth/2fa/setup", &json!({}), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let secret = again["secret"].as_str().expect("secret").to_owned();

    for code in [wrong_totp_code(&secret), "abc".to_owned(), String::new()] {
        let (status, reply) = post(
            &app,
            "/auth/2fa/enable",
            &json!({"code": code}),
            Some(&access),
        )
        .await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert_eq!(reply["error"]["details"]["field"], "code");
    }
    let now = totp_code(&secret, 0);
    let (status, reply) = post(
        &app,
        "/auth/2fa/enable",
        &json!({"code": now}),
        Some(&access),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{reply}");
    assert_eq!(reply, Value::Null);
    assert!(totp_row(&app).await.2, "confirmed");
    let (status, reply) = post(&app, "/auth/2fa/setup", &json!({}), Some(&access)).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (status, reply) = post(
        &app,
        "/auth/2fa/enable",
        &json!({"code": totp_code(&secret, 1)}),
        Some(&access),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // the challenge: bare body, no envelope
    let (status, reply) = login_with(&app, "ada@example.com", None).await;
    assert_eq!(
        (status, reply),
        (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
    );
    // MFA-03: the code that enabled 2FA was taken; replaying it looks like a wrong code
    let (status, reply) = login_with(&app, "ada@example.com", Some(&now)).await;
    assert_eq!(
        (status, reply),
        (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
    );
    let next = totp_code(&secret, 1);
    let (status, reply) = login_with(&app, "ada@example.com", Some(&next)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["user"]["two_factor_enabled"], true);
    // MFA-04: the same code again, still inside the window
    let (status, reply) = login_with(&app, "ada@example.com", Some(&next)).await;
    assert_eq!(
        (status, reply),
        (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
    );
    let (status, _) = login_with(&app, "ada@example.com", Some(&now)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an older step after a newer one"
    );

    let actions = audit_actions(&app).await;
    for a in [
        "2fa.setup_started",
        "2fa.failed",
        "2fa.enabled",
        "2fa.verified",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a}: {actions:?}");
    }
    // the secret never travels in an audit event
    let payloads: Vec<String> = sqlx::query_scalar("select payload::text from outbox")
        .fetch_all(&app.platform.db)
        .await
        .expect("outbox");
    assert!(payloads.iter().all(|p| !p.contains(&secret)));
}

#[tokio::test]
async fn mfa_05_concurrent_logins_with_one_code_exactly_one_wins() {
    let app = Arc::new(start(&[("AUTH_MAX_LOGIN_ATTEMPTS", "100")]).await);
    totp_user(&app, "ada@example.com").await;
    let code = totp_code(TOTP_SECRET, 0);
    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, barrier, code) = (app.clone(), barrier.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            login_with(&app, "ada@example.com", Some(&code)).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (status, reply) = t.await.expect("task");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::UNAUTHORIZED => assert_eq!(reply, json!({"requires_2fa": true})),
            other => panic!("unexpected {other}: {reply}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(count(&app, "select count(*) from sessions").await, 1);
}

#[tokio::test]
async fn mfa_06_wrong_codes_count_toward_the_account_lockout() {
    let app = start(&[]).await;
    totp_user(&app, "ada@example.com").await;
    let wrong = wrong_totp_code(TOTP_SECRET);
    for _ in 0..5 {
        let (status, reply) = login_with(&app, "ada@example.com", Some(&wrong)).await;
        assert_eq!(
            (status, reply),
            (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
        );
    }
    let (status, reply) =
        login_with(&app, "ada@example.com", Some(&totp_code(TOTP_SECRET, 0))).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    let failed = count(&app, "select failed_login_attempts::bigint from users").await;
    assert_eq!(failed, 5);
    let fails = audit_actions(&app)
        .await
        .into_iter()
        .filter(|a| a == "2fa.failed")
        .count();
    assert_eq!(fails, 5);
}

#[tokio::test]
async fn disable_needs_password_and_a_fresh_code_and_revokes_access_tokens() {
    let app = start(&[]).await;
    totp_user(&app, "ada@example.com").await;
    let (status, reply) =
        login_with(&app, "ada@example.com", Some(&totp_code(TOTP_SECRET, 0))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let access = reply["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (.., tv_before) = totp_row(&app).await;

    let body = |password: &str, code: &str| json!({"password": password, "code": code});
    let next = totp_code(TOTP_SECRET, 1);
    let (status, reply) = post(
        &app,
        "/auth/2fa/disable",
        &body("Wrong1Horse", &next),
        Some(&access),
    )
    .await;
    assert_error(
        status,
        &reply,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    let (status, reply) = post(
        &app,
        "/auth/2fa/disable",
        &body(PASSWORD, &wrong_totp_code(TOTP_SECRET)),
        Some(&access),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    // the step the login used is spent
    let (status, reply) = post(
        &app,
        "/auth/2fa/disable",
        &body(PASSWORD, &totp_code(TOTP_SECRET, 0)),
        Some(&access),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(totp_row(&app).await.0, Some(true), "still on");

    let (status, reply) = post(
        &app,
        "/auth/2fa/disable",
        &body(PASSWORD, &next),
        Some(&access),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{reply}");
    let (enabled, secret, confirmed, tv_after) = totp_row(&app).await;
    assert_eq!((enabled, secret, confirmed), (Some(false), None, false));
    assert_eq!(tv_after, tv_before + 1);
    // every access token of the user dies (§9.15)
    let (status, reply) = send(&app, Method::GET, "/auth/me", None, Some(&access)).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    // a password alone logs in again; disabling again is refused
    let access = access_token(&app, "ada@example.com").await;
    let (status, reply) = post(
        &app,
        "/auth/2fa/disable",
        &body(PASSWORD, &next),
        Some(&access),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        audit_actions(&app)
            .await
            .contains(&"2fa.disabled".to_owned())
    );
}

#[tokio::test]
async fn two_factor_bad_input_and_impersonation_are_4xx() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    let access = access_token(&app, "ada@example.com").await;
    for path in ["/auth/2fa/enable", "/auth/2fa/disable"] {
        for raw in ["{", "[]", "{\"code\": [1]}", "{\"password\": {}}", "null"] {
            let (status, reply) = post_raw(&app, path, "application/json", raw.into()).await;
            assert!(status.is_client_error(), "{path} {raw}: {status} {reply}");
        }
        let (status, reply) = post(&app, path, &json!({}), Some(&access)).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        let (status, reply) = post(
            &app,
            path,
            &json!({"code": "' or 1=1 --", "password": "\u{0}\u{202e}ü"}),
            Some(&access),
        )
        .await;
        assert!(status.is_client_error(), "{path}: {status} {reply}");
        let big = json!({"code": "1".repeat(10 * 1024 * 1024), "password": "x"});
        let (status, _) = post(&app, path, &big, Some(&access)).await;
        assert!(status.is_client_error(), "{path} 10 MB: {status}");
    }
    // an acting admin cannot change the target's second factor
    let mut claims = testkit::TestClaims::user(id, &["base_user"]).to_json();
    claims["imp_uid"] = json!(uuid::Uuid::new_v4());
    claims["imp_email"] = json!("admin@example.com");
    let imp = testkit::sign_json(&claims);
    let (status, reply) = post(&app, "/auth/2fa/setup", &json!({}), Some(&imp)).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(totp_row(&app).await.1, None);
}
