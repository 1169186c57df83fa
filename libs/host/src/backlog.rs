//! Whether the NATS buckets lag behind Postgres: revocations (token-version bumps, revoked
//! ids) committed but still waiting in the outbox for NATS.
//!
//! While that is so, a watcher that looks fresh (connected, watches running) can still miss
//! them — typically right after a NATS outage, before the relay has caught up — and would
//! accept tokens that Postgres already revokes. The platform's revocation source asks Postgres
//! instead for as long as such rows exist.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auth_bus::outbox::{REVOKED_JTI_TOPIC, TOKEN_VERSION_TOPIC};
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the outbox is looked at.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// A revocation row younger than this is normal traffic (published right after commit, or by
/// the relay's next pass), not a backlog.
const BACKLOG_AGE_SECS: f64 = 1.0;
/// After the backlog empties, the watcher is trusted again only this much later, so the
/// relay's last puts have reached every watcher.
const SETTLE: Duration = Duration::from_millis(500);

/// Shared flag, true while unpublished revocation rows older than a second exist (and until
/// the first look has been taken).
#[derive(Debug, Clone)]
pub(crate) struct OutboxBacklog {
    behind: Arc<AtomicBool>,
}

impl OutboxBacklog {
    /// Starts looking at `db`'s outbox every 200 ms until `shutdown`.
    pub(crate) fn watch(db: PgPool, shutdown: CancellationToken) -> Self {
        let behind = Arc::new(AtomicBool::new(true));
        let flag = behind.clone();
        tokio::spawn(async move {
            let mut last_backlog = Instant::now()
                .checked_sub(SETTLE)
                .unwrap_or_else(Instant::now);
            loop {
                match has_backlog(&db).await {
                    Ok(true) => {
                        last_backlog = Instant::now();
                        flag.store(true, Ordering::SeqCst);
                    }
                    Ok(false) if last_backlog.elapsed() >= SETTLE => {
                        flag.store(false, Ordering::SeqCst);
                    }
                    Ok(false) => {}
                    // Postgres unreachable: keep the last answer (the watcher keeps serving
                    // when it was trusted; Postgres is needed anyway when it was not)
                    Err(e) => tracing::debug!(error = %e, "outbox backlog check failed"),
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(POLL_EVERY) => {}
                }
            }
        });
        Self { behind }
    }

    /// True while the buckets may lag behind Postgres.
    pub(crate) fn is_behind(&self) -> bool {
        self.behind.load(Ordering::SeqCst)
    }
}

async fn has_backlog(db: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from outbox
                         where published_at is null and topic = any($1)
                           and created_at < now() - make_interval(secs => $2))",
    )
    .bind([TOKEN_VERSION_TOPIC, REVOKED_JTI_TOPIC])
    .bind(BACKLOG_AGE_SECS)
    .fetch_one(db)
    .await
}
