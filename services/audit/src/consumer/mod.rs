//! The durable JetStream pull consumer that moves audit events from the `<prefix>AUDIT` stream
//! into `audit_log` (ARCHITECTURE §4).
//!
//! Messages are taken in chunks of whatever has arrived (up to [`ConsumerConfig::batch`]), inserted
//! with one idempotent statement (`on conflict (event_id) do nothing`) and acknowledged only
//! after that statement committed. While Postgres is unreachable the chunk is retried in place
//! (the messages are kept alive with in-progress acks); on shutdown unfinished messages are
//! NAKed for prompt redelivery. A crash anywhere loses nothing (unacked messages come back after
//! `ack_wait`) and doubles nothing (the event id is unique). Several consumers, in one process
//! or many, share the durable and append to the one chain without forking it.

mod batch;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use auth_bus::Bus;
use futures::StreamExt as _;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Consumer tuning.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Durable consumer name, `<NATS_PREFIX>audit_log_writer` by default.
    pub durable: String,
    /// Most messages inserted by one statement.
    pub batch: usize,
    /// Redelivery delay of a message that was delivered but not acknowledged.
    pub ack_wait: Duration,
    /// Most messages delivered and not yet acknowledged, across all instances.
    pub max_ack_pending: i64,
    /// First retry delay after a failure.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
}

impl ConsumerConfig {
    /// Defaults, with the durable name under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            durable: format!("{prefix}audit_log_writer"),
            batch: 1000,
            ack_wait: Duration::from_secs(10),
            max_ack_pending: 20_000,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// Counters of a consumer (for metrics and tests).
#[derive(Debug, Default)]
pub struct ConsumerStats {
    inserted: AtomicU64,
    duplicates: AtomicU64,
    poison: AtomicU64,
    failed_inserts: AtomicU64,
}

impl ConsumerStats {
    /// Rows written.
    pub fn inserted(&self) -> u64 {
        self.inserted.load(Ordering::Relaxed)
    }
    /// Messages whose event was already stored (redeliveries, duplicates).
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }
    /// Messages that can never be stored (not an audit event); terminated and logged.
    pub fn poison(&self) -> u64 {
        self.poison.load(Ordering::Relaxed)
    }
    /// Insert attempts that failed and were retried.
    pub fn failed_inserts(&self) -> u64 {
        self.failed_inserts.load(Ordering::Relaxed)
    }
}

/// Moves audit events from the stream into `audit_log`.
pub struct AuditConsumer {
    db: PgPool,
    bus: Bus,
    cfg: ConsumerConfig,
    stats: Arc<ConsumerStats>,
}

impl std::fmt::Debug for AuditConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditConsumer")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl AuditConsumer {
    /// A consumer with default tuning under the bus's prefix.
    pub fn new(db: PgPool, bus: Bus) -> Self {
        let cfg = ConsumerConfig::new(&bus.config().prefix);
        Self {
            db,
            bus,
            cfg,
            stats: Arc::default(),
        }
    }

    /// Replaces the tuning.
    pub fn with_config(mut self, cfg: ConsumerConfig) -> Self {
        self.cfg = cfg;
        self
    }

    /// The consumer's counters.
    pub fn stats(&self) -> Arc<ConsumerStats> {
        Arc::clone(&self.stats)
    }

    /// Spawns the consumer; it finishes the chunk in hand and stops on `shutdown`.
    pub fn start(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }

    async fn run(self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        while !shutdown.is_cancelled() {
            match self.open().await {
                Ok(messages) => {
                    failures = 0;
                    self.consume(messages, &shutdown).await;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures == 1 || failures.is_multiple_of(50) {
                        tracing::warn!(error = %e, failures, "audit consumer cannot subscribe yet");
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.backoff(failures.max(1))) => {}
            }
        }
        tracing::debug!("audit consumer stopped");
    }

    /// Creates (or updates) the durable consumer and opens a pull stream on it.
    async fn open(&self) -> anyhow::Result<pull::Stream> {
        let js = self.bus.jetstream();
        let name = self.bus.config().audit_stream();
        let stream = match js.get_stream(&name).await {
            Ok(s) => s,
            Err(_) => {
                self.bus.ensure_topology().await?;
                js.get_stream(&name).await?
            }
        };
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(self.cfg.durable.clone()),
                description: Some("audit_log writer (audit service)".to_owned()),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: self.cfg.ack_wait,
                max_ack_pending: self.cfg.max_ack_pending,
                ..Default::default()
            })
            .await?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(self.cfg.batch)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await?;
        Ok(messages)
    }

    /// Takes chunks until the stream fails or ends (the caller reopens) or shutdown.
    async fn consume(&self, messages: pull::Stream, shutdown: &CancellationToken) {
        let mut chunks = messages.ready_chunks(self.cfg.batch);
        loop {
            let chunk = tokio::select! {
                () = shutdown.cancelled() => return,
                c = chunks.next() => c,
            };
            let Some(chunk) = chunk else {
                tracing::debug!("audit pull stream ended; reopening");
                return;
            };
            let mut msgs = Vec::with_capacity(chunk.len());
            let mut error = None;
            for item in chunk {
                match item {
                    Ok(m) => msgs.push(m),
                    Err(e) => error = Some(e),
                }
            }
            self.process(msgs, shutdown).await;
            if let Some(e) = error {
                tracing::warn!(error = %e, "audit pull stream failed; reopening");
                return;
            }
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(16);
        self.cfg
            .min_backoff
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.cfg.max_backoff)
    }
}
