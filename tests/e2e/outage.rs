//! A NATS outage across two service processes (issue 4 "Faults"): the test runs its own
//! nats-server, the session and identity binaries on it, and stops it mid-test. Logout-all on
//! the session process still reaches identity through Postgres within the fail-closed bound
//! (`REVOCATION_MAX_STALENESS`), and once NATS is back the outbox delivers the token-version
//! bump: identity's watcher, fresh again, refuses the old token on its own.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use testkit::process::TEST_API_PREFIX;
use testkit::{PrivateServer, ServiceProcess, TestClaims, TestEnv, unique_prefix};
use uuid::Uuid;

use crate::support::client;

const STALENESS: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(3);

fn token(user_id: Uuid, tv: u64) -> String {
    TestClaims {
        tv,
        ..TestClaims::user(user_id, &["base_user"])
    }
    .sign()
}

async fn me(process: &ServiceProcess, token: &str) -> StatusCode {
    client()
        .get(format!("{}{TEST_API_PREFIX}/auth/me", process.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

/// `checks.revocation` of `/ready`: `watching` (NATS feed fresh) or `postgres`.
async fn revocation_mode(process: &ServiceProcess) -> String {
    let body: Value = client()
        .get(format!("{}/ready", process.base_url()))
        .send()
        .await
        .expect("ready")
        .json()
        .await
        .unwrap_or(Value::Null);
    body["checks"]["revocation"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

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

#[tokio::test]
async fn nats_stopped_logout_all_reaches_another_process_through_postgres_then_nats() {
    let mut nats = PrivateServer::nats().await.expect("private nats");
    let env = TestEnv::new().await;
    let url = nats.url();
    let staleness = format!("{}s", STALENESS.as_secs());
    let vars = env.vars_with(&[
        ("NATS_URL", url.as_str()),
        ("REVOCATION_MAX_STALENESS", staleness.as_str()),
    ]);
    let session = ServiceProcess::spawn("session", &vars, "SESSION_PORT")
        .await
        .expect("session process");
    let identity = ServiceProcess::spawn("identity", &vars, "IDENTITY_PORT")
        .await
        .expect("identity process");
    for process in [&session, &identity] {
        eventually(Duration::from_secs(20), "watcher up", || async {
            revocation_mode(process).await == "watching"
        })
        .await;
    }
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status) values ($1, 'N', 'Ats', 'active') returning id",
    )
    .bind(format!("{}@example.com", unique_prefix("outage")))
    .fetch_one(env.db.pool())
    .await
    .expect("user");
    let old = token(user_id, 0);
    assert_eq!(me(&identity, &old).await, StatusCode::OK);

    nats.stop().await;
    let stopped = Instant::now();
    let resp = client()
        .post(format!(
            "{}{TEST_API_PREFIX}/auth/logout/all",
            session.base_url()
        ))
        .bearer_auth(&old)
        .send()
        .await
        .expect("logout all");
    assert_eq!(resp.status(), StatusCode::OK);
    eventually(
        STALENESS + SLACK,
        "identity refuses the old token",
        || async {
            let status = me(&identity, &old).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                "{status}"
            );
            status == StatusCode::UNAUTHORIZED
        },
    )
    .await;
    println!(
        "identity refused the old token {:?} after NATS stopped",
        stopped.elapsed()
    );
    assert_eq!(revocation_mode(&identity).await, "postgres");
    assert_eq!(me(&identity, &token(user_id, 1)).await, StatusCode::OK);
    let pending: i64 = sqlx::query_scalar(
        "select count(*) from outbox where topic = 'token_version' and published_at is null",
    )
    .fetch_one(env.db.pool())
    .await
    .expect("outbox");
    assert_eq!(pending, 1, "the bump waits in the outbox");

    // while NATS comes back and the relay catches up, the refused token is never accepted
    // again (the watcher is fresh before the bump has reached the bucket)
    nats.start().await.expect("restart nats");
    let restarted = Instant::now();
    loop {
        assert_eq!(
            me(&identity, &old).await,
            StatusCode::UNAUTHORIZED,
            "accepted again {:?} after NATS restarted",
            restarted.elapsed()
        );
        let pending: i64 =
            sqlx::query_scalar("select count(*) from outbox where published_at is null")
                .fetch_one(env.db.pool())
                .await
                .expect("outbox");
        if pending == 0 && revocation_mode(&identity).await == "watching" {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "outbox not drained or watcher not back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("caught up {:?} after NATS restarted", restarted.elapsed());
    // answered by the watcher alone now: the bump reached the bucket
    assert_eq!(me(&identity, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&identity, &token(user_id, 1)).await, StatusCode::OK);
}
