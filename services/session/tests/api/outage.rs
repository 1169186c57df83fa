//! Faults with the real servers stopped and started mid-test (issue 4 "Faults", SECURITY
//! B.12): each test runs its own Redis or NATS server ([`PrivateServer`], never the shared
//! one), two replicas of the service on it, and stops and restarts it between requests.
//!
//! - Redis stopped (FLT-01), then restarted empty (FLT-02): refresh, reuse detection, logout
//!   and logout-all stay correct, no revoked token is ever accepted, and the Redis mirror of
//!   the token version catches up from the outbox once Redis is back. A hung Redis
//!   (SIGSTOP) keeps every request bounded and refuses revoked tokens too.
//! - NATS stopped: revocation holds through Postgres once the watcher is staler than
//!   `REVOCATION_MAX_STALENESS`, and the outbox (token-version bump, revoked ids, audit
//!   events) reaches NATS once it is back, each audit event exactly once.

use std::time::{Duration, Instant};

use auth_cache::Fallback;
use jwt_verify::VerifyError;
use reqwest::StatusCode;
use serde_json::json;
use testkit::{PrivateServer, TestApp};
use uuid::Uuid;

use crate::helpers::*;

/// Fail-closed bound configured for the NATS test (the default is 10 s).
const STALENESS: Duration = Duration::from_secs(2);
/// Slack on top of a bound for scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(3);
/// Longest a single request may take while a dependency is down.
const REQUEST_BOUND: Duration = Duration::from_secs(3);

/// Polls `check` every 20 ms until it holds; panics with `what` after `deadline`.
async fn eventually<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < deadline, "{what}: not after {deadline:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn pending_outbox(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from outbox where published_at is null")
        .fetch_one(&app.platform.db)
        .await
        .expect("outbox")
}

async fn token_version(app: &TestApp, user: Uuid) -> i64 {
    sqlx::query_scalar("select token_version from users where id = $1")
        .bind(user)
        .fetch_one(&app.platform.db)
        .await
        .expect("token version")
}

/// A request that must answer within [`REQUEST_BOUND`] although a dependency is down.
async fn timed<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = fut.await;
    assert!(
        start.elapsed() < REQUEST_BOUND,
        "{what} took {:?}",
        start.elapsed()
    );
    out
}

#[tokio::test]
async fn flt_01_02_redis_stopped_and_restarted_empty_mid_test() {
    let mut redis = PrivateServer::redis().await.expect("private redis");
    let url = redis.url();
    let overrides = [("REDIS_URL", url.as_str())];
    let app = spawn_with(&overrides).await;
    let replica = Replica::start_with_vars(app.env.vars_with(&overrides)).await;
    let user = create_user(&app, &[]).await;
    let rotating = login(&app, user).await;
    let leaving = login(&app, user).await;
    let everywhere = login(&app, user).await;
    assert!(is_valid(&replica.api("/auth/validate"), &leaving.tokens.access_token).await);

    redis.stop().await;
    // rotation and reuse detection live in Postgres
    let (status, body) = timed(
        "refresh",
        refresh(&app.api("/auth/refresh"), &rotating.tokens.refresh_token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = pair(&body);
    let (status, body) = timed(
        "replay",
        refresh(
            &replica.api("/auth/refresh"),
            &rotating.tokens.refresh_token,
        ),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    let (status, _) = refresh(&app.api("/auth/refresh"), &rotated.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the family died");

    // logout with a bearer: refresh row and access jti revoked on both replicas
    let (status, _) = timed(
        "logout",
        post_json(
            &app.api("/auth/logout"),
            &json!({"refresh_token": leaving.tokens.refresh_token}),
            Some(&leaving.tokens.access_token),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for url in [app.api("/auth/validate"), replica.api("/auth/validate")] {
        until_refused(&url, &leaving.tokens.access_token, SLACK).await;
    }
    let (status, _) = refresh(&replica.api("/auth/refresh"), &leaving.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // logout-all: the version moves in Postgres and NATS; the mirror waits in the outbox
    let before = token_version(&app, user).await;
    let resp = timed(
        "logout-all",
        http()
            .post(app.api("/auth/logout/all"))
            .bearer_auth(&everywhere.tokens.access_token)
            .send(),
    )
    .await
    .expect("logout all");
    assert_eq!(resp.status(), StatusCode::OK);
    for url in [app.api("/auth/validate"), replica.api("/auth/validate")] {
        until_refused(&url, &everywhere.tokens.access_token, SLACK).await;
    }
    let bumped = token_version(&app, user).await;
    assert_eq!(bumped, before + 1);
    assert!(pending_outbox(&app).await >= 1, "the mirror write waits");

    // Redis comes back empty (FLT-02): old tokens stay refused, new ones work, and the
    // relay writes the mirror from the outbox
    redis.start().await.expect("restart redis");
    for url in [app.api("/auth/validate"), replica.api("/auth/validate")] {
        for token in [
            &leaving.tokens.access_token,
            &everywhere.tokens.access_token,
            &rotated.access_token,
        ] {
            assert!(!is_valid(&url, token).await, "revoked token accepted");
        }
    }
    let fresh = login(&app, user).await;
    assert!(is_valid(&replica.api("/auth/validate"), &fresh.tokens.access_token).await);
    let (status, _) = refresh(&replica.api("/auth/refresh"), &fresh.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    let key = format!("user_tv:{user}");
    eventually(Duration::from_secs(30), "mirror rewritten", || async {
        let mirrored = app.platform.cache.get(&key, Fallback::Fail).await;
        matches!(mirrored, Ok(Some(v)) if v == bumped.to_string().into_bytes())
    })
    .await;
    eventually(Duration::from_secs(30), "outbox drained", || async {
        pending_outbox(&app).await == 0
    })
    .await;
}

#[tokio::test]
async fn nats_stopped_revocation_holds_through_postgres_and_the_outbox_drains_on_return() {
    let mut nats = PrivateServer::nats().await.expect("private nats");
    let url = nats.url();
    let staleness = format!("{}s", STALENESS.as_secs());
    let overrides = [
        ("NATS_URL", url.as_str()),
        ("REVOCATION_MAX_STALENESS", staleness.as_str()),
    ];
    let app = spawn_with(&overrides).await;
    let replica = Replica::start_with_vars(app.env.vars_with(&overrides)).await;
    assert!(replica.platform.revocation.primary.is_healthy());
    let user = create_user(&app, &[]).await;
    let everywhere = login(&app, user).await;
    let leaving = login(&app, user).await;
    let ended = login(&app, user).await;
    let (_, admin) = admin_token(&app, &["super_admin"]).await;
    for token in [
        &everywhere.tokens.access_token,
        &leaving.tokens.access_token,
    ] {
        assert!(is_valid(&replica.api("/auth/validate"), token).await);
    }

    nats.stop().await;
    let stopped = Instant::now();
    // logout of one session (bearer jti), ending another (its session id), then logout-all
    let (status, _) = timed(
        "logout",
        post_json(
            &app.api("/auth/logout"),
            &json!({"refresh_token": leaving.tokens.refresh_token}),
            Some(&leaving.tokens.access_token),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let resp = timed(
        "terminate",
        http()
            .delete(app.api(&format!(
                "/admin/users/{user}/sessions/{}",
                ended.session_id
            )))
            .bearer_auth(&admin)
            .send(),
    )
    .await
    .expect("terminate");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = timed(
        "logout-all",
        http()
            .post(app.api("/auth/logout/all"))
            .bearer_auth(&everywhere.tokens.access_token)
            .send(),
    )
    .await
    .expect("logout all");
    assert_eq!(resp.status(), StatusCode::OK);

    // the other replica's watcher cannot hear it; within the fail-closed bound Postgres
    // answers instead, and it never accepts a revoked token after that
    let bound = STALENESS + SLACK;
    for token in [
        &everywhere.tokens.access_token,
        &leaving.tokens.access_token,
        &ended.tokens.access_token,
    ] {
        for url in [replica.api("/auth/validate"), app.api("/auth/validate")] {
            until_refused(&url, token, bound).await;
        }
    }
    assert!(
        stopped.elapsed() < bound + SLACK,
        "refused only after {:?}",
        stopped.elapsed()
    );
    assert!(!replica.platform.revocation.primary.is_healthy());
    // what was not published yet: the bump, two revoked ids and the audit events
    let topics: Vec<String> = sqlx::query_scalar(
        "select topic from outbox where published_at is null order by created_at",
    )
    .fetch_all(&app.platform.db)
    .await
    .expect("pending topics");
    assert!(topics.iter().any(|t| t == "token_version"), "{topics:?}");
    assert!(topics.iter().any(|t| t == "audit.logout.all"), "{topics:?}");
    let revoked_ids = topics.iter().filter(|t| *t == "revoked_jti").count();
    assert_eq!(revoked_ids, 2, "{topics:?}");
    // rotation and sign-in keep working without NATS
    let fresh = login(&app, user).await;
    assert!(is_valid(&replica.api("/auth/validate"), &fresh.tokens.access_token).await);

    nats.start().await.expect("restart nats");
    eventually(Duration::from_secs(30), "outbox drained", || async {
        pending_outbox(&app).await == 0
    })
    .await;
    // the watcher is back and has the bump and both revoked ids itself (no Postgres)
    eventually(Duration::from_secs(30), "watcher healthy", || async {
        replica.platform.revocation.primary.is_healthy()
    })
    .await;
    let nats_only = &replica.platform.revocation.primary;
    for token in [
        &everywhere.tokens.access_token,
        &leaving.tokens.access_token,
        &ended.tokens.access_token,
    ] {
        eventually(
            Duration::from_secs(10),
            "bucket has the revocation",
            || async {
                replica
                    .platform
                    .verifier
                    .verify_access_with(token, nats_only)
                    .await
                    .err()
                    == Some(VerifyError::Revoked)
            },
        )
        .await;
    }
    assert!(
        replica
            .platform
            .verifier
            .verify_access_with(&fresh.tokens.access_token, nats_only)
            .await
            .is_ok()
    );
    // the audit events reached the AUDIT stream
    let audit = app
        .platform
        .bus
        .jetstream()
        .get_stream(app.platform.bus.config().audit_stream())
        .await;
    let mut audit = audit.expect("audit stream");
    let info = audit.info().await.expect("stream info");
    // exactly once: both replicas' relays drain the same outbox; the stream de-duplicates
    let audited: i64 = sqlx::query_scalar("select count(*) from outbox where topic like 'audit.%'")
        .fetch_one(&app.platform.db)
        .await
        .expect("audit rows");
    assert!(audited >= 1);
    assert_eq!(
        i64::try_from(info.state.messages).unwrap_or(-1),
        audited,
        "{:?}",
        info.state
    );
}

#[tokio::test]
async fn flt_01_a_hung_redis_bounds_latency_and_never_accepts_a_revoked_token() {
    let redis = PrivateServer::redis().await.expect("private redis");
    let url = redis.url();
    let overrides = [("REDIS_URL", url.as_str())];
    let app = spawn_with(&overrides).await;
    let user = create_user(&app, &[]).await;
    let rotating = login(&app, user).await;
    let everywhere = login(&app, user).await;

    redis.pause().await;
    let (status, body) = timed(
        "refresh",
        refresh(&app.api("/auth/refresh"), &rotating.tokens.refresh_token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resp = timed(
        "logout-all",
        http()
            .post(app.api("/auth/logout/all"))
            .bearer_auth(&everywhere.tokens.access_token)
            .send(),
    )
    .await
    .expect("logout all");
    assert_eq!(resp.status(), StatusCode::OK);
    let validate = app.api("/auth/validate");
    for token in [&everywhere.tokens.access_token, &pair(&body).access_token] {
        let valid = timed("validate", is_valid(&validate, token)).await;
        assert!(!valid, "a revoked token was accepted while Redis hung");
    }
    redis.resume().await;
    let key = format!("user_tv:{user}");
    let bumped = token_version(&app, user).await;
    eventually(
        Duration::from_secs(30),
        "mirror written after resume",
        || async {
            let mirrored = app.platform.cache.get(&key, Fallback::Fail).await;
            matches!(mirrored, Ok(Some(v)) if v == bumped.to_string().into_bytes())
        },
    )
    .await;
}
