//! Shared fixtures: an audit app with its consumer, events through the outbox, waiting for rows.

use std::time::Duration;

use audit::{AuditConsumer, ConsumerConfig};
use auth_bus::{AuditAction, AuditEvent, enqueue_audit};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use testkit::{TestApp, TestClaims};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A [`TestApp`] that removes its stream and buckets from the shared NATS server when dropped,
/// also when the test fails (JetStream reserves each stream's `max_bytes` until it is deleted).
pub struct Harness(TestApp);

impl std::ops::Deref for Harness {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.0.platform.shutdown.cancel();
        let cfg = self.0.platform.bus.config().clone();
        // a runtime of its own: Drop may run inside or outside the test's runtime
        let worker = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(client) = async_nats::connect(&cfg.url).await else {
                    return;
                };
                let js = async_nats::jetstream::new(client);
                js.delete_stream(cfg.audit_stream()).await.ok();
                js.delete_key_value(cfg.token_versions_bucket()).await.ok();
                js.delete_key_value(cfg.revoked_jti_bucket()).await.ok();
            });
        });
        let _ = worker.join();
    }
}

/// The audit service in-process (its platform runs an outbox relay), without a consumer.
pub async fn app_with(overrides: &[(&str, &str)]) -> Harness {
    Harness(
        TestApp::start(audit::NAME, audit::openapi(), overrides)
            .await
            .expect("start audit"),
    )
}

/// The audit service in-process, without a consumer.
pub async fn app() -> Harness {
    app_with(&[]).await
}

/// A consumer on the app's database and bus with a short `ack_wait` (fast redelivery in tests),
/// stopped by `stop`.
pub fn consumer(app: &TestApp, stop: &CancellationToken) -> JoinHandle<()> {
    let mut cfg = ConsumerConfig::new(&app.platform.bus.config().prefix);
    cfg.ack_wait = Duration::from_secs(2);
    AuditConsumer::new(app.platform.db.clone(), app.platform.bus.clone())
        .with_config(cfg)
        .start(stop.clone())
}

/// A platform admin's bearer token.
pub fn admin() -> String {
    TestClaims::user(Uuid::new_v4(), &["system_admin"]).sign()
}

/// A `login.success` event of a fresh actor from a documentation address.
pub fn event(n: usize) -> AuditEvent {
    AuditEvent::new(AuditAction::LOGIN_SUCCESS)
        .actor(Uuid::new_v4())
        .client(Some("203.0.113.7".into()), Some("audit-test".into()))
        .details(serde_json::json!({ "n": n }))
}

/// Commits `n` events, `per_tx` per transaction, through the outbox; returns their ids.
pub async fn enqueue(db: &PgPool, n: usize, per_tx: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let mut tx = db.begin().await.expect("begin");
        for _ in 0..per_tx.min(n - ids.len()) {
            let e = event(ids.len());
            enqueue_audit(&mut tx, &e).await.expect("enqueue");
            ids.push(e.id);
        }
        tx.commit().await.expect("commit");
    }
    ids
}

/// Rows in `audit_log`.
pub async fn count(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(db)
        .await
        .expect("count")
}

/// Polls until `audit_log` holds at least `n` rows; panics after `within`.
pub async fn wait_for_rows(db: &PgPool, n: i64, within: Duration) -> i64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let c = count(db).await;
        if c >= n {
            return c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {c} of {n} audit rows after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `GET` an audit path as `token`; status and JSON body.
pub async fn get_json(
    app: &TestApp,
    path_and_query: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().get(app.api(path_and_query));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.expect("json body"))
}

/// Runs `sql` with the append-only trigger disabled, as a superuser tampering with the table
/// would.
pub async fn tamper(db: &PgPool, sql: &str) {
    let mut tx = db.begin().await.expect("begin");
    for stmt in [
        "alter table audit_log disable trigger audit_log_no_update_delete",
        sql,
        "alter table audit_log enable trigger audit_log_no_update_delete",
    ] {
        sqlx::query(stmt).execute(&mut *tx).await.expect(stmt);
    }
    tx.commit().await.expect("commit");
}
