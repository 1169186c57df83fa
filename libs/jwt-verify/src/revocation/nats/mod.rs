//! NATS JetStream key-value watcher (feature `nats`): a local copy of the token versions and
//! revoked access-token ids, kept current by watching two buckets.
//!
//! - `<prefix>token_versions`: key = user id, value = decimal version (monotonic here: a
//!   smaller value or a delete never lowers what was seen; an unreadable value revokes all
//!   of that user's tokens until it is fixed).
//! - `<prefix>revoked_jti`: key = access-token `jti`, any value; entries expire with the
//!   bucket's `max_age` (mirrored locally).
//!
//! Lookups are answered from memory. The feed counts as healthy while the client is
//! connected and both watches run; when it has been unhealthy for longer than
//! `max_staleness`, lookups fail with [`RevocationUnavailable`] (fail closed). The client
//! reconnects by itself; a lost connection makes the feed unhealthy until both watches,
//! restarted from their last revision, have caught up with their bucket again.

//! Layout: `setup` (names, config, errors, bucket creation), `state` (maps and health),
//! `tasks` (background watches and health monitor), this file (the public source).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{BoxFuture, RevocationSource, RevocationUnavailable, TokenRef};

mod setup;
mod state;
mod tasks;

use setup::open_bucket;
pub use setup::{
    NatsRevocationConfig, NatsRevocationError, REVOKED_JTI_BUCKET, TOKEN_VERSIONS_BUCKET,
    ensure_buckets,
};
use state::{Shared, Which};
use tasks::{monitor, watch_loop};

struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Revocation source backed by a local map that two JetStream key-value watches keep
/// current. Cheap to clone; background tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct NatsRevocation {
    shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

impl std::fmt::Debug for NatsRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsRevocation")
            .field("healthy", &self.shared.healthy_now())
            .field("last_healthy_ms", &self.last_healthy_ms())
            .finish_non_exhaustive()
    }
}

impl NatsRevocation {
    /// Opens the two buckets (they must exist, see [`ensure_buckets`]), loads their current
    /// state, and keeps watching. Must run inside a tokio runtime.
    pub async fn start(
        client: async_nats::Client,
        config: NatsRevocationConfig,
    ) -> Result<Self, NatsRevocationError> {
        let js = jetstream::new(client.clone());
        let tv_store =
            open_bucket(&js, format!("{}{TOKEN_VERSIONS_BUCKET}", config.prefix)).await?;
        let jti_name = format!("{}{REVOKED_JTI_BUCKET}", config.prefix);
        let jti_store = open_bucket(&js, jti_name.clone()).await?;
        let jti_max_age = jti_store
            .status()
            .await
            .map_err(|e| NatsRevocationError::Bucket {
                bucket: jti_name,
                message: e.to_string(),
            })?
            .max_age();
        let shared = Arc::new(Shared::new(
            client,
            config.clock.clone(),
            config.max_staleness,
            jti_max_age,
        ));
        let (tv_ready_tx, tv_ready) = tokio::sync::oneshot::channel();
        let (jti_ready_tx, jti_ready) = tokio::sync::oneshot::channel();
        let tasks = vec![
            tokio::spawn(watch_loop(
                tv_store,
                shared.clone(),
                Which::Versions,
                tv_ready_tx,
            )),
            tokio::spawn(watch_loop(
                jti_store,
                shared.clone(),
                Which::Revoked,
                jti_ready_tx,
            )),
            tokio::spawn(monitor(shared.clone(), config.health_interval)),
        ];
        let this = Self {
            shared,
            _tasks: Arc::new(Tasks(tasks)),
        };
        let both = async { tv_ready.await.is_ok() && jti_ready.await.is_ok() };
        match tokio::time::timeout(config.sync_timeout, both).await {
            Ok(true) => {
                this.shared.gate().ok();
                Ok(this)
            }
            _ => Err(NatsRevocationError::SyncTimeout(config.sync_timeout)),
        }
    }

    /// Whether the feed is healthy right now (connected, both watches running).
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.shared.healthy_now()
    }

    /// When the feed was last seen healthy (ms since the epoch, per the configured clock).
    #[must_use]
    pub fn last_healthy_ms(&self) -> i64 {
        self.shared.gate().ok();
        self.shared.last_healthy_ms.load(Ordering::SeqCst)
    }

    /// Waits until the token-version watch has applied `revision` (as returned by a `put`),
    /// for read-your-writes. False on timeout.
    pub async fn wait_token_versions(&self, revision: u64, timeout: Duration) -> bool {
        wait_rev(&self.shared.versions_rev, revision, timeout).await
    }

    /// Waits until the revoked-jti watch has applied `revision`. False on timeout.
    pub async fn wait_revoked_jti(&self, revision: u64, timeout: Duration) -> bool {
        wait_rev(&self.shared.revoked_rev, revision, timeout).await
    }
}

async fn wait_rev(tx: &watch::Sender<u64>, revision: u64, timeout: Duration) -> bool {
    let mut rx = tx.subscribe();
    matches!(
        tokio::time::timeout(timeout, rx.wait_for(|r| *r >= revision)).await,
        Ok(Ok(_))
    )
}

impl RevocationSource for NatsRevocation {
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.shared.version_of(user_id)))
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.shared.jti_revoked(jti)))
    }

    fn is_revoked_now(&self, token: TokenRef<'_>) -> Option<Result<bool, RevocationUnavailable>> {
        Some(self.shared.revoked(token))
    }

    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.shared.revoked(token)))
    }
}
