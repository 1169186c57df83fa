//! Measures the outbox relay against the real services (prints, asserts nothing):
//! 1. drain rate of a 10,000-row backlog with one relay;
//! 2. publish lag (JetStream timestamp minus event time) while producers commit
//!    2,500 single-event transactions per second for 4 s.
//!
//! `DATABASE_URL=... NATS_URL=... cargo run --release -p auth-bus --example relay_throughput`

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull::OrderedConfig;
use auth_bus::{AuditAction, AuditEvent, Bus, BusConfig, OutboxRelay, enqueue_audit};
use futures::StreamExt;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use testkit::{TestDb, unique_prefix};
use tokio_util::sync::CancellationToken;

type Error = Box<dyn std::error::Error + Send + Sync>;

const BACKLOG: usize = 10_000;
const RATE: u64 = 2_500;
const SECONDS: u64 = 4;
const PRODUCERS: u64 = 10;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let nats_url = std::env::var("NATS_URL").map_err(|_| "NATS_URL is not set")?;
    let db = TestDb::new().await;
    let pool = PgPoolOptions::new()
        .max_connections(PRODUCERS as u32 + 4)
        .connect(db.url())
        .await?;

    // 1. Backlog drain.
    let bus = new_bus(&nats_url).await?;
    let mut tx = pool.begin().await?;
    for i in 0..BACKLOG {
        enqueue_audit(&mut tx, &event()).await?;
        if i % 500 == 499 {
            tx.commit().await?;
            tx = pool.begin().await?;
        }
    }
    tx.commit().await?;
    let stop = CancellationToken::new();
    let started = Instant::now();
    let relay = OutboxRelay::spawn(pool.clone(), bus.clone(), stop.clone());
    wait_drained(&pool).await?;
    let took = started.elapsed();
    stop.cancel();
    relay.await?;
    println!(
        "backlog: {BACKLOG} rows relayed in {:.3} s = {:.0} events/s",
        took.as_secs_f64(),
        BACKLOG as f64 / took.as_secs_f64()
    );
    cleanup(&bus).await;

    // 2. Lag under a steady load.
    let bus = new_bus(&nats_url).await?;
    let stop = CancellationToken::new();
    let relay = OutboxRelay::spawn(pool.clone(), bus.clone(), stop.clone());
    let started = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| tokio::spawn(produce(pool.clone())))
        .collect();
    for p in producers {
        p.await??;
    }
    let produced_in = started.elapsed();
    wait_drained(&pool).await?;
    stop.cancel();
    relay.await?;
    let total = RATE * SECONDS;
    let mut lags = lags(&bus, total as usize).await?;
    lags.sort_unstable();
    let pct = |p: f64| lags[((lags.len() as f64 - 1.0) * p) as usize];
    println!(
        "load: {total} events committed in {:.2} s ({:.0}/s); lag p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        produced_in.as_secs_f64(),
        total as f64 / produced_in.as_secs_f64(),
        pct(0.50) as f64 / 1e6,
        pct(0.99) as f64 / 1e6,
        pct(1.0) as f64 / 1e6,
    );
    cleanup(&bus).await;
    pool.close().await;
    db.cleanup().await;
    Ok(())
}

fn event() -> AuditEvent {
    AuditEvent::new(AuditAction::LOGIN_SUCCESS)
        .actor(uuid::Uuid::new_v4())
        .client(Some("203.0.113.9".into()), Some("bench".into()))
}

async fn new_bus(url: &str) -> Result<Bus, Error> {
    let mut cfg = BusConfig::new(url, format!("{}_", unique_prefix("bench")));
    cfg.audit_max_bytes = 256 * 1024 * 1024;
    let bus = Bus::connect(cfg).await?;
    if !bus.wait_connected(Duration::from_secs(10)).await {
        return Err("NATS is not reachable".into());
    }
    bus.ensure_topology().await?;
    Ok(bus)
}

/// One producer: single-event transactions at RATE / PRODUCERS per second.
async fn produce(pool: PgPool) -> Result<(), Error> {
    let per = RATE / PRODUCERS;
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per as u32);
    for _ in 0..per * SECONDS {
        tick.tick().await;
        let mut tx = pool.begin().await?;
        enqueue_audit(&mut tx, &event()).await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn wait_drained(pool: &PgPool) -> Result<(), Error> {
    loop {
        let left: i64 =
            sqlx::query_scalar("select count(*) from outbox where published_at is null")
                .fetch_one(pool)
                .await?;
        if left == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Nanoseconds between each event's time and its JetStream timestamp.
async fn lags(bus: &Bus, n: usize) -> Result<Vec<i128>, Error> {
    let stream = bus
        .jetstream()
        .get_stream(bus.config().audit_stream())
        .await?;
    let consumer = stream.create_consumer(OrderedConfig::default()).await?;
    let mut messages = consumer.messages().await?;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let Some(m) = messages.next().await else {
            break;
        };
        let m = m?;
        let stored = m.info()?.published.unix_timestamp_nanos();
        let e: AuditEvent = serde_json::from_slice(&m.payload)?;
        let created = i128::from(e.created_at.timestamp_nanos_opt().unwrap_or_default());
        out.push(stored - created);
    }
    Ok(out)
}

async fn cleanup(bus: &Bus) {
    let cfg = bus.config();
    let js = bus.jetstream();
    js.delete_stream(cfg.audit_stream()).await.ok();
    js.delete_key_value(cfg.token_versions_bucket()).await.ok();
    js.delete_key_value(cfg.revoked_jti_bucket()).await.ok();
}
