//! The outbox relay: a background task that moves committed outbox rows to NATS.
//!
//! Safe to run in many processes at once (`for update skip locked`), loses nothing
//! (rows are marked only after JetStream acked them) and doubles nothing (the row id
//! is the `Nats-Msg-Id`, de-duplicated by the stream within its window).

mod batch;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use batch::BatchOutcome;
use batch::{Deferred, Pass};

use crate::connection::Bus;
use crate::error::Result;
use crate::outbox::NOTIFY_CHANNEL;
use crate::token_version::TokenVersionMirror;

/// Consecutive failed passes after which the relay logs at ERROR (a human must look:
/// e.g. the audit stream is full, AUD-06).
const ALERT_AFTER_FAILURES: u32 = 10;

/// Relay tuning.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Rows claimed per pass.
    pub batch_size: i64,
    /// Polling fallback when no notification arrives.
    pub poll_interval: Duration,
    /// First retry delay after a failure.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Published rows older than this are deleted; `None` keeps them.
    pub retention: Option<Duration>,
    /// How often pruning runs.
    pub prune_interval: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_millis(500),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            retention: Some(Duration::from_secs(3600)),
            prune_interval: Duration::from_secs(60),
        }
    }
}

/// Counters a relay keeps (for metrics and tests).
#[derive(Debug, Default)]
pub struct RelayStats {
    delivered: AtomicU64,
    kv_applied: AtomicU64,
    dropped: AtomicU64,
    failed_passes: AtomicU64,
    disconnected_waits: AtomicU64,
}

impl RelayStats {
    /// Rows delivered and marked published.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }
    /// Token-version rows applied to the KV bucket.
    pub fn kv_applied(&self) -> u64 {
        self.kv_applied.load(Ordering::Relaxed)
    }
    /// Undeliverable rows marked without delivery (logged at ERROR).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// Passes that left rows behind or failed outright.
    pub fn failed_passes(&self) -> u64 {
        self.failed_passes.load(Ordering::Relaxed)
    }
    /// Times the relay waited because NATS was not connected.
    pub fn disconnected_waits(&self) -> u64 {
        self.disconnected_waits.load(Ordering::Relaxed)
    }
}

/// Moves outbox rows to JetStream (audit) and the KV buckets (token versions, jtis).
pub struct OutboxRelay {
    pool: PgPool,
    bus: Bus,
    cfg: RelayConfig,
    mirror: Option<Arc<dyn TokenVersionMirror>>,
    stats: Arc<RelayStats>,
    deferred: std::sync::Mutex<Deferred>,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl OutboxRelay {
    /// A relay with default tuning.
    pub fn new(pool: PgPool, bus: Bus) -> Self {
        Self {
            pool,
            bus,
            cfg: RelayConfig::default(),
            mirror: None,
            stats: Arc::default(),
            deferred: std::sync::Mutex::default(),
        }
    }

    /// Replaces the tuning.
    pub fn with_config(mut self, cfg: RelayConfig) -> Self {
        self.cfg = cfg;
        self
    }

    /// Also writes relayed token versions to `mirror`, which must be forward-only (rows are
    /// applied concurrently and regardless of the bucket's answer, see
    /// [`TokenVersionMirror`]); a failing mirror keeps the row for retry so a stale mirror
    /// gets corrected once it is back.
    pub fn with_mirror(mut self, mirror: Arc<dyn TokenVersionMirror>) -> Self {
        self.mirror = Some(mirror);
        self
    }

    /// The relay's counters.
    pub fn stats(&self) -> Arc<RelayStats> {
        Arc::clone(&self.stats)
    }

    /// Spawns a relay with default tuning that stops when `shutdown` is cancelled.
    pub fn spawn(pool: PgPool, bus: Bus, shutdown: CancellationToken) -> JoinHandle<()> {
        Self::new(pool, bus).start(shutdown)
    }

    /// Spawns this relay; it finishes its current pass and stops on `shutdown`.
    pub fn start(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }

    /// One pass: claim, deliver and mark one batch (skipping recently failed rows).
    pub async fn relay_once(&self) -> Result<BatchOutcome> {
        let now = Instant::now();
        let skip = self
            .deferred
            .lock()
            .map(|mut d| d.active(now))
            .unwrap_or_default();
        let pass = Pass {
            pool: &self.pool,
            bus: &self.bus,
            mirror: self.mirror.as_ref(),
            stats: &self.stats,
            batch_size: self.cfg.batch_size,
        };
        let (outcome, failed) = pass.run(&skip).await?;
        // Only a partly failed batch defers its failures: when everything fails the
        // whole loop backs off instead.
        if outcome.delivered > 0
            && !failed.is_empty()
            && let Ok(mut d) = self.deferred.lock()
        {
            d.defer(failed, now + self.cfg.max_backoff);
        }
        Ok(outcome)
    }

    /// Deletes published rows older than the retention; returns how many.
    pub async fn prune(&self) -> Result<u64> {
        let Some(retention) = self.cfg.retention else {
            return Ok(0);
        };
        let deleted = sqlx::query(
            "delete from outbox where published_at is not null \
             and published_at < now() - make_interval(secs => $1)",
        )
        .bind(retention.as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted)
    }

    async fn run(self, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let listener_stop = shutdown.child_token();
        let listener = tokio::spawn(listen(
            self.pool.clone(),
            Arc::clone(&wake),
            listener_stop.clone(),
        ));
        let mut failures: u32 = 0;
        let mut last_prune: Option<Instant> = None;
        while !shutdown.is_cancelled() {
            if last_prune.is_none_or(|t| t.elapsed() >= self.cfg.prune_interval) {
                last_prune = Some(Instant::now());
                if let Err(e) = self.prune().await {
                    tracing::warn!(error = %e, "outbox prune failed");
                }
            }
            let delay = if !self.bus.is_connected() {
                self.stats
                    .disconnected_waits
                    .fetch_add(1, Ordering::Relaxed);
                Some(self.backoff(failures.max(3)))
            } else {
                match self.relay_once().await {
                    Ok(o) if o.failed == 0 => {
                        failures = 0;
                        if o.claimed as i64 >= self.cfg.batch_size {
                            continue;
                        }
                        None
                    }
                    Ok(o) => {
                        failures =
                            self.note_failure(failures, &format!("{} rows failed", o.failed));
                        Some(self.backoff(failures))
                    }
                    Err(e) => {
                        failures = self.note_failure(failures, &e.to_string());
                        Some(self.backoff(failures))
                    }
                }
            };
            let pause = delay.unwrap_or(self.cfg.poll_interval);
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
                () = wake.notified(), if delay.is_none() => {}
            }
        }
        listener_stop.cancel();
        let _ = listener.await;
        tracing::debug!("outbox relay stopped");
    }

    fn note_failure(&self, failures: u32, what: &str) -> u32 {
        self.stats.failed_passes.fetch_add(1, Ordering::Relaxed);
        let failures = failures.saturating_add(1);
        if failures == ALERT_AFTER_FAILURES || failures.is_multiple_of(100) {
            tracing::error!(
                failures,
                error = what,
                "outbox relay keeps failing; events wait in the outbox"
            );
        } else {
            tracing::warn!(failures, error = what, "outbox relay pass failed; retrying");
        }
        failures
    }

    fn backoff(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(16);
        self.cfg
            .min_backoff
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.cfg.max_backoff)
    }
}

/// Wakes the relay on every `NOTIFY auth_outbox`; reconnects on errors. Wakes once
/// after (re)subscribing to catch rows committed while it was not listening.
async fn listen(pool: PgPool, wake: Arc<Notify>, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let subscribed = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        };
        let mut listener = tokio::select! {
            () = stop.cancelled() => return,
            r = subscribed => match r {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox LISTEN failed; polling meanwhile");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        wake.notify_one();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                r = listener.recv() => match r {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox LISTEN connection lost");
                        break;
                    }
                },
            }
        }
    }
}
