//! Degraded dependencies (FLT-01, FLT-03): with Redis and NATS unreachable, refresh, reuse
//! detection, logout and logout-all stay correct, and revoked tokens are refused by every
//! replica through Postgres, never accepted.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Nothing listens there (the discard port).
const DEAD_REDIS: &str = "redis://127.0.0.1:9/";
const DEAD_NATS: &str = "nats://127.0.0.1:9";

#[tokio::test]
async fn flt_01_without_redis_and_nats_revocation_still_holds_through_postgres() {
    let overrides = [("REDIS_URL", DEAD_REDIS), ("NATS_URL", DEAD_NATS)];
    let app = spawn_with(&overrides).await;
    let mut vars = app.env.vars();
    vars.retain(|(k, _)| k != "REDIS_URL" && k != "NATS_URL");
    vars.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let replica = Replica::start_with_vars(vars).await;
    let user = create_user(&app, &[]).await;

    // rotation and reuse detection live in Postgres
    let first = login(&app, user).await;
    let (status, body) = refresh(&app.api("/auth/refresh"), &first.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = pair(&body);
    let (status, body) = refresh(&replica.api("/auth/refresh"), &first.tokens.refresh_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    let (status, _) = refresh(&app.api("/auth/refresh"), &second.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // logout with a bearer: the jti is refused by both replicas at once
    let session = login(&app, user).await;
    assert!(is_valid(&replica.api("/auth/validate"), &session.tokens.access_token).await);
    let (status, _) = post_json(
        &app.api("/auth/logout"),
        &json!({"refresh_token": session.tokens.refresh_token}),
        Some(&session.tokens.access_token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!is_valid(&app.api("/auth/validate"), &session.tokens.access_token).await);
    assert!(!is_valid(&replica.api("/auth/validate"), &session.tokens.access_token).await);

    // logout-all: the bump commits in Postgres; publishing fails and is left to the relay
    let other = login(&app, user).await;
    let started = std::time::Instant::now();
    let resp = http()
        .post(app.api("/auth/logout/all"))
        .bearer_auth(&other.tokens.access_token)
        .send()
        .await
        .expect("logout all");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for url in [app.api("/auth/validate"), replica.api("/auth/validate")] {
        assert!(!is_valid(&url, &other.tokens.access_token).await);
    }
    let pending: i64 = sqlx::query_scalar(
        "select count(*) from outbox where topic = 'token_version' and published_at is null",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("outbox");
    assert_eq!(
        pending, 1,
        "the bump waits in the outbox for NATS to return"
    );
    // SES-03 still holds without Redis and NATS
    let fresh = login(&app, user).await;
    assert!(is_valid(&replica.api("/auth/validate"), &fresh.tokens.access_token).await);
}
