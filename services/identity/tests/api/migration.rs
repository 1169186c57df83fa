//! The Cognito lazy-migration bridge (contract §7.5, SECURITY B.13) against a real Cognito
//! emulator (moto in server mode).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::cognito::{Moto, Pool, TEMP_PASSWORD, free_port, silent_server, throttling_server};
use crate::support::{self, PASSWORD, assert_error, audit_actions, count, login};

const COGNITO_PASSWORD: &str = "Legacy!Passw0rd";

async fn start_with(pool: &Pool, moto: &Moto, extra: &[(&str, &str)]) -> TestApp {
    let vars = pool.settings(moto);
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    support::start(&all).await
}

async fn user_row(app: &TestApp, email: &str) -> Option<(Uuid, Option<String>, bool, String)> {
    sqlx::query_as(
        "select id, password_hash, coalesce(email_verified, false), status
           from users where lower(email) = $1",
    )
    .bind(email)
    .fetch_optional(&app.platform.db)
    .await
    .expect("user row")
}

async fn base_roles(app: &TestApp, id: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "select r.code from user_base_roles ub join roles r on r.id = ub.role_id
          where ub.user_id = $1 order by r.code",
    )
    .bind(id)
    .fetch_all(&app.platform.db)
    .await
    .expect("roles")
}

async fn legacy_id(app: &TestApp, id: Uuid) -> Option<String> {
    sqlx::query_scalar(
        "select provider_user_id from user_auth_providers
          where user_id = $1 and provider = 'cognito'",
    )
    .bind(id)
    .fetch_optional(&app.platform.db)
    .await
    .expect("link")
}

async fn users_count(app: &TestApp) -> i64 {
    count(app, "select count(*) from users").await
}

#[tokio::test]
async fn mig01_first_login_migrates_with_secret_hash_and_next_login_stays_local() {
    let mut moto = Moto::start().await;
    let pool = moto.pool(true).await;
    assert!(pool.client_secret.is_some());
    let email = "ann.lee@example.com";
    let sub = moto
        .user(
            &pool,
            email,
            COGNITO_PASSWORD,
            true,
            &["SellerAdmin", "SYSTEM_ADMIN"],
        )
        .await;
    let app = start_with(&pool, &moto, &[]).await;

    let (status, body) = login(&app, "  Ann.Lee@Example.com ", COGNITO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["tokens"]["access_token"].is_string(), "{body}");
    assert!(body["tokens"]["refresh_token"].is_string(), "{body}");
    assert_eq!(body["user"]["email"], email, "{body}");
    let roles: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        roles.contains(&"seller") && roles.contains(&"org_admin"),
        "{body}"
    );
    assert!(
        !roles.contains(&"system_admin"),
        "SYSTEM_ADMIN is dropped: {body}"
    );

    let (id, hash, verified, user_status) = user_row(&app, email).await.expect("migrated row");
    let cost = app.platform.settings.auth.bcrypt_cost;
    let hash = hash.expect("local hash");
    assert!(hash.starts_with(&format!("$2b${cost:02}$")), "{hash}");
    assert!(bcrypt::verify(COGNITO_PASSWORD, &hash).expect("bcrypt"));
    assert!(verified);
    assert_eq!(user_status, "active");
    assert_eq!(
        base_roles(&app, id).await,
        ["base_user", "org_admin", "seller"]
    );
    assert_eq!(legacy_id(&app, id).await.as_deref(), Some(sub.as_str()));
    let migrated: Value = sqlx::query_scalar(
        "select payload from outbox where payload->>'action' = 'user.migrated_from_legacy'",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("one migration event");
    assert_eq!(migrated["details"]["legacy_id"], sub.as_str(), "{migrated}");
    assert!(!migrated.to_string().contains(COGNITO_PASSWORD));

    // the next login never reaches Cognito: with the emulator gone it still succeeds
    moto.stop();
    let (status, body) = login(&app, email, COGNITO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(users_count(&app).await, 1);
}

#[tokio::test]
async fn mig07_unverified_cognito_email_stays_unverified_here_without_secret() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    assert!(pool.client_secret.is_none());
    let email = "unverified@example.com";
    moto.user(&pool, email, COGNITO_PASSWORD, false, &["BUYER"])
        .await;
    let app = start_with(&pool, &moto, &[]).await;

    let (status, body) = login(&app, email, COGNITO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "pending users can log in: {body}");
    let (id, _, verified, user_status) = user_row(&app, email).await.expect("row");
    assert!(!verified, "MIG-07: email_verified false carries over");
    assert_eq!(user_status, "pending");
    // `customer` is not a seeded role: only base_user remains
    assert_eq!(base_roles(&app, id).await, ["base_user"]);
}

#[tokio::test]
async fn mig03_cognito_wrong_password_and_unknown_user_look_like_any_failed_login() {
    let moto = Moto::start().await;
    let pool = moto.pool(true).await;
    moto.user(&pool, "legacy@example.com", COGNITO_PASSWORD, true, &[])
        .await;
    let app = start_with(&pool, &moto, &[]).await;
    support::user(&app, "local@example.com").await;

    let (s1, wrong_at_cognito) = login(&app, "legacy@example.com", "Wrong!Passw0rd").await;
    let (s2, unknown_everywhere) = login(&app, "nobody@example.com", "Wrong!Passw0rd").await;
    let (s3, wrong_locally) = login(&app, "local@example.com", "Wrong!Passw0rd").await;
    assert_error(
        s1,
        &wrong_at_cognito,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    assert_eq!((s1, &wrong_at_cognito), (s2, &unknown_everywhere));
    assert_eq!((s1, &wrong_at_cognito), (s3, &wrong_locally));
    assert_eq!(users_count(&app).await, 1, "nothing migrated");
}

#[tokio::test]
async fn conflict_local_password_differs_and_cognito_accepts_is_409() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let email = "both@example.com";
    moto.user(&pool, email, COGNITO_PASSWORD, true, &[]).await;
    let app = start_with(&pool, &moto, &[]).await;
    let id = support::user(&app, email).await;

    let (status, body) = login(&app, email, COGNITO_PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "LEGACY_MIGRATION_CONFLICT",
    );
    assert_eq!(body["error"]["details"]["email"], email, "{body}");
    assert!(body["error"]["details"].get("app_code").is_some(), "{body}");
    assert!(
        audit_actions(&app)
            .await
            .contains(&"login.legacy_migration_conflict".to_owned())
    );
    let failed: i32 = sqlx::query_scalar("select failed_login_attempts from users where id = $1")
        .bind(id)
        .fetch_one(&app.platform.db)
        .await
        .expect("counter");
    assert_eq!(failed, 1);
    // a password neither store accepts stays the plain 401
    let (status, body) = login(&app, email, "Neither!Passw0rd").await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    // the local password still works
    let (status, body) = login(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn assert_unavailable_quickly(app: &TestApp, bound: Duration) -> Duration {
    let started = Instant::now();
    let (status, body) = login(app, "legacy@example.com", COGNITO_PASSWORD).await;
    let took = started.elapsed();
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    );
    assert!(took < bound, "took {took:?}");
    assert_eq!(users_count(app).await, 0, "nothing half-created");
    assert!(
        !audit_actions(app)
            .await
            .iter()
            .any(|a| a == "user.migrated_from_legacy" || a == "login.failed")
    );
    took
}

#[tokio::test]
async fn mig05_cognito_down_is_503_without_rows() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let closed = format!("http://127.0.0.1:{}/", free_port());
    let app = start_with(
        &pool,
        &moto,
        &[
            ("COGNITO_ENDPOINT", closed.as_str()),
            ("COGNITO_TIMEOUT", "1s"),
        ],
    )
    .await;
    let _ = assert_unavailable_quickly(&app, Duration::from_secs(4)).await;
}

#[tokio::test]
async fn mig05_cognito_slow_is_503_within_the_timeout() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let silent = silent_server().await;
    let app = start_with(
        &pool,
        &moto,
        &[
            ("COGNITO_ENDPOINT", silent.as_str()),
            ("COGNITO_TIMEOUT", "700ms"),
        ],
    )
    .await;
    // the bound: 700 ms of waiting plus one bcrypt-free request on a busy machine
    let took = assert_unavailable_quickly(&app, Duration::from_secs(4)).await;
    assert!(
        took >= Duration::from_millis(650),
        "waited for the timeout: {took:?}"
    );
}

#[tokio::test]
async fn mig05_cognito_throttling_is_503_not_401() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let throttling = throttling_server().await;
    let app = start_with(&pool, &moto, &[("COGNITO_ENDPOINT", throttling.as_str())]).await;
    let _ = assert_unavailable_quickly(&app, Duration::from_secs(4)).await;
}

#[tokio::test]
async fn bridge_off_never_migrates() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    moto.user(&pool, "legacy@example.com", COGNITO_PASSWORD, true, &[])
        .await;
    let app = start_with(&pool, &moto, &[("COGNITO_AUTO_MIGRATE_ENABLED", "false")]).await;
    let (status, body) = login(&app, "legacy@example.com", COGNITO_PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    assert_eq!(users_count(&app).await, 0);
}

#[tokio::test]
async fn mig04_force_change_password_user_goes_to_reset_and_disabled_user_is_refused() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    moto.temporary_user(&pool, "temp@example.com", true).await;
    moto.user(&pool, "off@example.com", COGNITO_PASSWORD, true, &[])
        .await;
    moto.call(
        "AdminDisableUser",
        json!({ "UserPoolId": pool.id, "Username": "off@example.com" }),
    )
    .await;
    let app = start_with(&pool, &moto, &[]).await;

    let (status, body) = login(&app, "temp@example.com", TEMP_PASSWORD).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(
        body["error"]["details"]["reason"],
        "password_reset_required"
    );
    let (_, hash, verified, user_status) = user_row(&app, "temp@example.com")
        .await
        .expect("a password-less account for the reset flow");
    assert!(hash.is_none() && !verified);
    assert_eq!(user_status, "pending");
    // it cannot log in with the temporary password
    let (status, body) = login(&app, "temp@example.com", TEMP_PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );

    let (status, body) = login(&app, "off@example.com", COGNITO_PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    assert!(user_row(&app, "off@example.com").await.is_none());
}

#[tokio::test]
async fn mig06_cognito_mfa_user_gets_no_session_from_the_password_alone() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let email = "mfa@example.com";
    moto.user(&pool, email, COGNITO_PASSWORD, true, &[]).await;
    moto.call(
        "AdminSetUserMFAPreference",
        json!({
            "UserPoolId": pool.id,
            "Username": email,
            "SMSMfaSettings": { "Enabled": true, "PreferredMfa": true },
        }),
    )
    .await;
    let app = start_with(&pool, &moto, &[]).await;

    let (status, body) = login(&app, email, COGNITO_PASSWORD).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(body.get("tokens").is_none());
    let (_, hash, _, user_status) = user_row(&app, email).await.expect("row");
    assert!(
        hash.is_none(),
        "no password carried: reset (email possession) first"
    );
    assert_eq!(user_status, "pending");
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn mig02_concurrent_first_logins_make_one_user_and_one_event() {
    let moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let email = "rush@example.com";
    moto.user(&pool, email, COGNITO_PASSWORD, true, &["SELLER"])
        .await;
    let app = Arc::new(start_with(&pool, &moto, &[]).await);
    let n = 20;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let app = Arc::clone(&app);
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            login(&app, email, COGNITO_PASSWORD).await
        }));
    }
    for task in tasks {
        let (status, body) = task.await.expect("join");
        assert_eq!(
            status,
            StatusCode::OK,
            "MIG-02: every correct login succeeds: {body}"
        );
    }
    assert_eq!(users_count(&app).await, 1);
    assert_eq!(
        count(
            &app,
            "select count(*) from outbox where payload->>'action' = 'user.migrated_from_legacy'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn pw07_account_limiter_applies_before_cognito() {
    let mut moto = Moto::start().await;
    let pool = moto.pool(false).await;
    let app = start_with(&pool, &moto, &[("AUTH_ACCOUNT_ATTEMPTS_LIMIT", "2")]).await;
    for _ in 0..2 {
        let (status, body) = login(&app, "legacy@example.com", "Wrong!Passw0rd").await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        );
    }
    // Cognito gone: a call would answer 503; the limiter answers first
    moto.stop();
    let (status, body) = login(&app, "legacy@example.com", COGNITO_PASSWORD).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}
