//! Token-version bump: Postgres first (source of truth), outbox row in the same
//! transaction, then a best-effort immediate publish to the KV bucket and a mirror.

use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::connection::Bus;
use crate::error::{BusError, Result};
use crate::kv::put_token_version;
use crate::outbox::{TokenVersionPayload, enqueue_token_version};

/// Bound on each best-effort step after commit, so an outage never slows the request.
pub const AFTER_COMMIT_TIMEOUT: Duration = Duration::from_secs(1);

/// Error returned by a [`TokenVersionMirror`].
pub type MirrorError = Box<dyn std::error::Error + Send + Sync>;

/// A second copy of token versions (the service plugs Redis `auth:user_tv:<uid>` in).
///
/// Implementations **must be forward-only**: store `version` only when the copy is absent
/// or older (e.g. `auth_cache::Cache::set_max`, one compare-and-set script), and treat an
/// equal or newer stored value as success. Calls arrive out of order: the relay applies every
/// token-version row of a batch concurrently, and applies the mirror even when the KV bucket
/// already held that version or a newer one, while [`TokenVersionBump::publish_after_commit`]
/// writes from the request path at the same time. A plain overwrite could move a user's
/// version backwards and revive revoked tokens.
///
/// Returning `Err` from the relay's call keeps the outbox row unpublished, so it is retried
/// (after the relay's back-off) until the mirror accepts it; from `publish_after_commit` it
/// is only logged.
pub trait TokenVersionMirror: Send + Sync {
    /// Stores `version` for `user_id` unless the copy already holds it or a newer one.
    fn set_version(
        &self,
        user_id: Uuid,
        version: i64,
    ) -> BoxFuture<'_, std::result::Result<(), MirrorError>>;
}

/// A committed (or about to be committed) bump that still has to be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "publish the bump after commit with `publish_after_commit`"]
pub struct TokenVersionBump {
    /// The user.
    pub user_id: Uuid,
    /// The new version.
    pub version: i64,
}

/// What the best-effort step after commit achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AfterCommit {
    /// The KV bucket holds this version (or a newer one).
    pub kv: bool,
    /// The mirror accepted it.
    pub mirror: bool,
}

/// Increments `users.token_version` inside the caller's transaction and queues the
/// outbox row that guarantees the KV bucket catches up. Call
/// [`TokenVersionBump::publish_after_commit`] once the transaction has committed.
pub async fn bump_token_version_in_tx(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<TokenVersionBump> {
    let version: Option<i64> = sqlx::query_scalar(
        "update users set token_version = token_version + 1 where id = $1 \
         returning token_version",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let version = version.ok_or(BusError::UserNotFound(user_id))?;
    enqueue_token_version(conn, TokenVersionPayload { user_id, version }).await?;
    Ok(TokenVersionBump { user_id, version })
}

/// Bumps the user's token version in its own transaction, then publishes it
/// best-effort (NATS KV, then the mirror). Returns the new version.
pub async fn bump_token_version(
    pool: &PgPool,
    user_id: Uuid,
    bus: Option<&Bus>,
    mirror: Option<&dyn TokenVersionMirror>,
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let bump = bump_token_version_in_tx(&mut tx, user_id).await?;
    tx.commit().await?;
    bump.publish_after_commit(bus, mirror).await;
    Ok(bump.version)
}

impl TokenVersionBump {
    /// Best-effort immediate publish; failures are logged and left to the outbox relay
    /// (KV) or to readers falling back to Postgres (mirror). Each step is bounded by
    /// [`AFTER_COMMIT_TIMEOUT`].
    pub async fn publish_after_commit(
        self,
        bus: Option<&Bus>,
        mirror: Option<&dyn TokenVersionMirror>,
    ) -> AfterCommit {
        let mut done = AfterCommit::default();
        if let Some(bus) = bus {
            let put = put_token_version(bus, self.user_id, self.version);
            match tokio::time::timeout(AFTER_COMMIT_TIMEOUT, put).await {
                Ok(Ok(_)) => done.kv = true,
                Ok(Err(e)) => {
                    tracing::warn!(user_id = %self.user_id, error = %e, "token version KV put deferred to the outbox relay");
                }
                Err(_) => {
                    tracing::warn!(user_id = %self.user_id, "token version KV put timed out; the outbox relay will retry");
                }
            }
        }
        if let Some(mirror) = mirror {
            let set = mirror.set_version(self.user_id, self.version);
            match tokio::time::timeout(AFTER_COMMIT_TIMEOUT, set).await {
                Ok(Ok(())) => done.mirror = true,
                Ok(Err(e)) => {
                    tracing::warn!(user_id = %self.user_id, error = %e, "token version mirror failed");
                }
                Err(_) => tracing::warn!(user_id = %self.user_id, "token version mirror timed out"),
            }
        }
        done
    }
}
