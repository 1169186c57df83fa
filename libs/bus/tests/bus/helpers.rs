//! Per-test isolation: a fresh database and a random NATS prefix, plus stream readers.

use std::collections::HashSet;
use std::time::Duration;

use auth_bus::{AuditAction, AuditEvent, Bus, BusConfig, enqueue_audit};
use sqlx::PgPool;
use testkit::{TestDb, unique_prefix};
use uuid::Uuid;

/// Reads a required service URL, failing loudly when the CI environment is incomplete.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the auth-bus tests need the dev Postgres and NATS (see scripts/test)")
    })
}

/// One test's world: its own database, its own subjects, stream and buckets.
pub struct Ctx {
    pub pool: PgPool,
    pub bus: Bus,
    pub cfg: BusConfig,
    db: TestDb,
}

impl Ctx {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// Like `new`, with a chance to adjust the bus configuration first.
    pub async fn with(adjust: impl FnOnce(&mut BusConfig)) -> Self {
        let db = TestDb::new().await;
        let pool = db.pool().clone();
        let mut cfg = BusConfig::new(env("NATS_URL"), format!("{}_", unique_prefix("bus")));
        cfg.audit_max_bytes = 64 * 1024 * 1024;
        cfg.audit_max_age = Duration::from_secs(3600);
        adjust(&mut cfg);
        let bus = connected_bus(cfg.clone()).await;
        bus.ensure_topology().await.expect("create topology");
        Self { pool, bus, cfg, db }
    }

    /// Another connection with the same prefix (a second process, say).
    pub async fn second_bus(&self) -> Bus {
        connected_bus(self.cfg.clone()).await
    }

    /// Another pool on the same database (a second process, say).
    pub async fn second_pool(&self) -> PgPool {
        PgPool::connect(self.db.url()).await.expect("second pool")
    }

    /// Removes the stream, the buckets and the database.
    pub async fn cleanup(self) {
        let js = self.bus.jetstream();
        js.delete_stream(self.cfg.audit_stream()).await.ok();
        js.delete_key_value(self.cfg.token_versions_bucket())
            .await
            .ok();
        js.delete_key_value(self.cfg.revoked_jti_bucket())
            .await
            .ok();
        self.pool.close().await;
        self.db.cleanup().await;
    }

    /// Commits `n` audit events, `per_tx` per transaction; returns their ids.
    pub async fn enqueue_events(&self, n: usize, per_tx: usize) -> Vec<Uuid> {
        let mut ids = Vec::with_capacity(n);
        let mut left = n;
        while left > 0 {
            let mut tx = self.pool.begin().await.expect("begin");
            for _ in 0..per_tx.min(left) {
                let e = AuditEvent::new(AuditAction::LOGIN_SUCCESS)
                    .actor(Uuid::new_v4())
                    .client(Some("203.0.113.7".into()), Some("test".into()));
                enqueue_audit(&mut tx, &e).await.expect("enqueue");
                ids.push(e.id);
                left -= 1;
            }
            tx.commit().await.expect("commit");
        }
        ids
    }

    pub async fn unpublished(&self) -> i64 {
        sqlx::query_scalar("select count(*) from outbox where published_at is null")
            .fetch_one(&self.pool)
            .await
            .expect("count unpublished")
    }

    /// Waits (polling, bounded) until every outbox row is marked published.
    pub async fn wait_drained(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.unpublished().await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "outbox not drained within {within:?}: {} rows left",
                self.unpublished().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every message in the audit stream as (Nats-Msg-Id, subject, payload event).
    pub async fn stream_messages(&self) -> Vec<(String, String, AuditEvent)> {
        let mut stream = self
            .bus
            .jetstream()
            .get_stream(self.cfg.audit_stream())
            .await
            .expect("audit stream");
        let state = stream.info().await.expect("stream info").state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return out;
        }
        for seq in state.first_sequence..=state.last_sequence {
            let m = stream.get_raw_message(seq).await.expect("get message");
            let id = m
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            let event: AuditEvent = serde_json::from_slice(&m.payload).expect("event payload");
            out.push((id, m.subject.to_string(), event));
        }
        out
    }

    /// Asserts the stream holds exactly one message per id, with msg id = event id.
    pub async fn assert_exactly_once(&self, ids: &[Uuid]) {
        let msgs = self.stream_messages().await;
        assert_eq!(msgs.len(), ids.len(), "stream message count");
        let want: HashSet<String> = ids.iter().map(Uuid::to_string).collect();
        let got: HashSet<String> = msgs.iter().map(|(id, _, _)| id.clone()).collect();
        assert_eq!(got.len(), msgs.len(), "a message id appears twice");
        assert_eq!(got, want, "stream ids differ from event ids");
        for (id, subject, event) in &msgs {
            assert_eq!(
                *id,
                event.id.to_string(),
                "Nats-Msg-Id must be the event id"
            );
            assert_eq!(*subject, self.cfg.subject(&event.action.topic()));
        }
    }

    pub async fn insert_user(&self) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into users (id, email, first_name, last_name) values ($1, $2, 'T', 'U')",
        )
        .bind(id)
        .bind(format!("{id}@example.test"))
        .execute(&self.pool)
        .await
        .expect("insert user");
        id
    }
}

/// Connects and waits for the connection (the dev NATS is up in tests).
pub async fn connected_bus(cfg: BusConfig) -> Bus {
    let bus = Bus::connect(cfg).await.expect("bus config");
    assert!(
        bus.wait_connected(Duration::from_secs(10)).await,
        "NATS at NATS_URL is not reachable"
    );
    bus
}

/// A URL nobody listens on: bind port 0, note it, close it.
pub fn closed_nats_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("nats://127.0.0.1:{port}")
}
