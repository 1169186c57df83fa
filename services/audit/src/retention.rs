//! The retention job: removes audit rows older than `AUDIT_RETENTION`, oldest first, keeping
//! the chain verifiable through checkpoint rows ([`crate::repo::chain::purge`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::repo::chain::purge;

/// Retention job tuning.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Rows created longer ago than this are removed (`AUDIT_RETENTION`).
    pub retention: Duration,
    /// Time between runs (the first run starts at once).
    pub interval: Duration,
    /// Most rows removed per transaction (one checkpoint row each).
    pub max_rows_per_tx: i64,
}

impl RetentionConfig {
    /// Hourly runs for `retention`, 50,000 rows per transaction.
    pub fn new(retention: Duration) -> Self {
        Self {
            retention,
            interval: Duration::from_secs(3600),
            max_rows_per_tx: 50_000,
        }
    }
}

/// Removes every row due at `now` under `cfg`; returns how many rows went.
pub async fn run_once(
    db: &PgPool,
    cfg: &RetentionConfig,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let retention = chrono::Duration::from_std(cfg.retention).unwrap_or(chrono::Duration::MAX);
    let cutoff = now
        .checked_sub_signed(retention)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut total = 0;
    loop {
        let outcome = purge(db, cutoff, cfg.max_rows_per_tx).await?;
        total += outcome.removed;
        if i64::try_from(outcome.removed).unwrap_or(i64::MAX) < cfg.max_rows_per_tx {
            return Ok(total);
        }
    }
}

/// Spawns the job; it runs at once, then every `cfg.interval`, until `shutdown`.
pub fn spawn(db: PgPool, cfg: RetentionConfig, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_once(&db, &cfg, Utc::now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "audit retention removed old rows"),
                Err(e) => {
                    tracing::warn!(error = %e, "audit retention run failed; next run retries")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(cfg.interval) => {}
            }
        }
    })
}
