//! Measures the audit pipeline outbox -> relay -> NATS -> consumer -> `audit_log` against the real
//! services (prints, asserts nothing):
//! 1. drain: a backlog of 50,000 committed events through two relays and one consumer;
//! 2. sustained: for 10 s, producers commit single-event transactions as fast as they can, then
//!    6,000 events/s in transactions of 4; events/s stored and the backlog left at the end;
//! 3. lag: producers commit 2,500 single-event transactions per second for 10 s; for every
//!    event, the time from its commit returning to its row being visible to a reader (polled
//!    every 2 ms), p50/p99/max.
//!
//! `DATABASE_URL=... NATS_URL=... cargo run --release -p audit --example pipeline`

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use audit::AuditConsumer;
use auth_bus::{AuditAction, AuditEvent, Bus, BusConfig, OutboxRelay, enqueue_audit};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use testkit::{TestDb, unique_prefix};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type Error = Box<dyn std::error::Error + Send + Sync>;

const BACKLOG: usize = 50_000;
const PRODUCERS: usize = 16;
const SUSTAIN: Duration = Duration::from_secs(10);
const SUSTAIN_RATE: u64 = 6_000;
const SUSTAIN_PER_TX: usize = 4;
const LAG_RATE: u64 = 2_500;
const LAG_SECONDS: u64 = 10;
const LAG_PRODUCERS: u64 = 10;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let nats_url = std::env::var("NATS_URL").map_err(|_| "NATS_URL is not set")?;

    // 1. Backlog drain.
    let run = Run::new(&nats_url).await?;
    let mut tx = run.pool.begin().await?;
    for i in 0..BACKLOG {
        enqueue_audit(&mut tx, &event()).await?;
        if i % 1000 == 999 {
            tx.commit().await?;
            tx = run.pool.begin().await?;
        }
    }
    tx.commit().await?;
    let started = Instant::now();
    let pipeline = run.start();
    run.wait_rows(BACKLOG as i64).await?;
    let took = started.elapsed();
    println!(
        "drain: {BACKLOG} events outbox -> audit_log in {:.2} s = {:.0} events/s",
        took.as_secs_f64(),
        BACKLOG as f64 / took.as_secs_f64()
    );
    pipeline.cancel();
    run.cleanup().await;

    // 2. Sustained load: first single-event transactions as fast as the producers can commit,
    //    then a fixed 6,000 events/s in transactions of SUSTAIN_PER_TX events.
    for (rate, per_tx) in [(None, 1), (Some(SUSTAIN_RATE), SUSTAIN_PER_TX)] {
        let run = Run::new(&nats_url).await?;
        let pipeline = run.start();
        let started = Instant::now();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| tokio::spawn(produce_for(run.pool.clone(), rate, per_tx, started)))
            .collect();
        let mut committed = 0;
        for p in producers {
            committed += p.await??;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let stored = run.rows().await?;
        run.wait_rows(committed as i64).await?;
        let drained = started.elapsed().as_secs_f64();
        println!(
            "sustained ({}, {per_tx} event(s) per transaction): {committed} events committed in \
             {elapsed:.1} s ({:.0}/s); {stored} stored by then ({:.0} events/s end to end), \
             backlog {} drained {:.2} s later",
            rate.map_or_else(|| "as fast as possible".to_owned(), |r| format!("{r}/s")),
            committed as f64 / elapsed,
            stored as f64 / elapsed,
            committed as i64 - stored,
            drained - elapsed
        );
        pipeline.cancel();
        run.cleanup().await;
    }

    // 3. Lag at half the bar.
    let run = Run::new(&nats_url).await?;
    let pipeline = run.start();
    let commits: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let producers: Vec<_> = (0..LAG_PRODUCERS)
        .map(|_| tokio::spawn(produce_at_rate(run.pool.clone(), Arc::clone(&commits))))
        .collect();
    let total = (LAG_RATE * LAG_SECONDS) as usize;
    let seen = observe(&run.reader, total).await?;
    for p in producers {
        p.await??;
    }
    let commits = std::mem::take(&mut *commits.lock().map_err(|_| "poisoned")?);
    let mut lags: Vec<Duration> = seen
        .iter()
        .filter_map(|(id, at)| commits.get(id).map(|c| at.saturating_duration_since(*c)))
        .collect();
    lags.sort_unstable();
    let pct = |p: f64| lags[((lags.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;
    println!(
        "lag at {LAG_RATE}/s for {LAG_SECONDS} s ({} events): commit -> queryable p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms",
        lags.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    pipeline.cancel();
    run.cleanup().await;
    Ok(())
}

/// One measurement's world: a fresh database and stream.
struct Run {
    db: TestDb,
    pool: PgPool,
    reader: PgPool,
    bus: Bus,
}

impl Run {
    async fn new(nats_url: &str) -> Result<Self, Error> {
        let db = TestDb::new().await;
        let pool = PgPoolOptions::new()
            .max_connections(PRODUCERS as u32 + 4)
            .connect(db.url())
            .await?;
        let reader = PgPoolOptions::new()
            .max_connections(2)
            .connect(db.url())
            .await?;
        let mut cfg = BusConfig::new(nats_url, format!("{}_", unique_prefix("auditbench")));
        cfg.audit_max_bytes = 512 * 1024 * 1024;
        let bus = Bus::connect(cfg).await?;
        if !bus.wait_connected(Duration::from_secs(10)).await {
            return Err("NATS is not reachable".into());
        }
        bus.ensure_topology().await?;
        Ok(Self {
            db,
            pool,
            reader,
            bus,
        })
    }

    /// Two relays (two services) and one consumer, each with a pool of its own.
    fn start(&self) -> CancellationToken {
        let stop = CancellationToken::new();
        for _ in 0..2 {
            let pool = PgPoolOptions::new()
                .max_connections(3)
                .connect_lazy(self.db.url())
                .unwrap_or_else(|_| self.pool.clone());
            OutboxRelay::spawn(pool, self.bus.clone(), stop.clone());
        }
        let pool = PgPoolOptions::new()
            .max_connections(3)
            .connect_lazy(self.db.url())
            .unwrap_or_else(|_| self.pool.clone());
        AuditConsumer::new(pool, self.bus.clone()).start(stop.clone());
        stop
    }

    async fn rows(&self) -> Result<i64, Error> {
        Ok(sqlx::query_scalar("select count(*) from audit_log")
            .fetch_one(&self.reader)
            .await?)
    }

    async fn wait_rows(&self, n: i64) -> Result<(), Error> {
        while self.rows().await? < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    async fn cleanup(self) {
        let cfg = self.bus.config();
        let js = self.bus.jetstream();
        js.delete_stream(cfg.audit_stream()).await.ok();
        js.delete_key_value(cfg.token_versions_bucket()).await.ok();
        js.delete_key_value(cfg.revoked_jti_bucket()).await.ok();
        self.pool.close().await;
        self.reader.close().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.db.cleanup().await;
    }
}

fn event() -> AuditEvent {
    AuditEvent::new(AuditAction::LOGIN_SUCCESS)
        .actor(Uuid::new_v4())
        .client(Some("203.0.113.9".into()), Some("bench".into()))
        .details(serde_json::json!({"method": "password"}))
}

/// One producer for SUSTAIN: transactions of `per_tx` events, paced to its share of `rate`
/// events/s (or unpaced); returns the events committed.
async fn produce_for(
    pool: PgPool,
    rate: Option<u64>,
    per_tx: usize,
    started: Instant,
) -> Result<u64, Error> {
    let mut tick = rate.map(|r| {
        let tx_per_s = r as f64 / per_tx as f64 / PRODUCERS as f64;
        tokio::time::interval(Duration::from_secs_f64(1.0 / tx_per_s))
    });
    let mut n = 0_u64;
    while started.elapsed() < SUSTAIN {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        let mut tx = pool.begin().await?;
        for _ in 0..per_tx {
            enqueue_audit(&mut tx, &event()).await?;
        }
        tx.commit().await?;
        n += per_tx as u64;
    }
    Ok(n)
}

/// One producer: single-event transactions at LAG_RATE / LAG_PRODUCERS per second, noting when
/// each commit returned.
async fn produce_at_rate(
    pool: PgPool,
    commits: Arc<Mutex<HashMap<Uuid, Instant>>>,
) -> Result<(), Error> {
    let per = LAG_RATE / LAG_PRODUCERS;
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per as u32);
    for _ in 0..per * LAG_SECONDS {
        tick.tick().await;
        let e = event();
        let mut tx = pool.begin().await?;
        enqueue_audit(&mut tx, &e).await?;
        tx.commit().await?;
        let now = Instant::now();
        commits.lock().map_err(|_| "poisoned")?.insert(e.id, now);
    }
    Ok(())
}

/// Polls `audit_log` in `seq` order every 2 ms and notes when each event id became visible.
async fn observe(reader: &PgPool, total: usize) -> Result<Vec<(Uuid, Instant)>, Error> {
    let mut seen = Vec::with_capacity(total);
    let mut last = 0_i64;
    let deadline = Instant::now() + Duration::from_secs(LAG_SECONDS + 60);
    while seen.len() < total && Instant::now() < deadline {
        let rows: Vec<(i64, Uuid)> = sqlx::query_as(
            "select seq, event_id from audit_log where seq > $1 order by seq limit 5000",
        )
        .bind(last)
        .fetch_all(reader)
        .await?;
        let now = Instant::now();
        if let Some((seq, _)) = rows.last() {
            last = *seq;
        }
        seen.extend(rows.into_iter().map(|(_, id)| (id, now)));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(seen)
}
