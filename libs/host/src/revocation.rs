//! The revocation source every service verifies access tokens with.
//!
//! The NATS key-value watcher answers from a local map (no network hop per request). Until
//! it has started, or while its feed is staler than `REVOCATION_MAX_STALENESS`, Postgres —
//! the source of truth — answers instead. Postgres also answers while revocations committed
//! there still wait in the outbox for NATS (after an outage, until the relay has caught up),
//! since a watcher that looks fresh would miss them. When neither can answer, verification
//! fails closed.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth_bus::Bus;
use jwt_verify::revocation::BoxFuture;
use jwt_verify::revocation::nats::{NatsRevocation, NatsRevocationConfig};
use jwt_verify::{Fallback, RevocationSource, RevocationUnavailable, TokenRef};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::backlog::OutboxBacklog;

/// NATS watcher first, Postgres when the watcher cannot answer.
pub type PlatformRevocation = Fallback<LazyNatsRevocation, PgRevocation>;

/// Builds the platform's revocation source and starts the watcher in the background.
pub fn platform_revocation(
    db: PgPool,
    bus: Bus,
    max_staleness: Duration,
    shutdown: CancellationToken,
) -> Arc<PlatformRevocation> {
    let nats = LazyNatsRevocation {
        backlog: Some(OutboxBacklog::watch(db.clone(), shutdown.clone())),
        ..LazyNatsRevocation::default()
    };
    nats.start_in_background(bus, max_staleness, shutdown);
    Arc::new(Fallback::new(nats, PgRevocation { db }))
}

/// The NATS watcher, once it could be started; unavailable before that, and while the
/// outbox holds revocations NATS has not received yet.
#[derive(Debug, Clone, Default)]
pub struct LazyNatsRevocation {
    inner: Arc<OnceLock<NatsRevocation>>,
    backlog: Option<OutboxBacklog>,
}

impl LazyNatsRevocation {
    /// True once the watcher runs, its feed is fresh and no revocation waits in the outbox.
    pub fn is_healthy(&self) -> bool {
        !self.is_behind() && self.inner.get().is_some_and(NatsRevocation::is_healthy)
    }

    fn is_behind(&self) -> bool {
        self.backlog.as_ref().is_some_and(OutboxBacklog::is_behind)
    }

    fn start_in_background(&self, bus: Bus, max_staleness: Duration, shutdown: CancellationToken) {
        let slot = self.inner.clone();
        tokio::spawn(async move {
            let config = NatsRevocationConfig {
                prefix: bus.config().prefix.clone(),
                max_staleness,
                ..NatsRevocationConfig::default()
            };
            let mut delay = Duration::from_millis(200);
            loop {
                // wakes as soon as the connection is up (no fixed first delay)
                let connected = tokio::select! {
                    () = shutdown.cancelled() => return,
                    up = bus.wait_connected(delay) => up,
                };
                if connected {
                    if bus.ensure_topology().await.is_ok() {
                        match NatsRevocation::start(bus.client().clone(), config.clone()).await {
                            Ok(watcher) => {
                                let _ = slot.set(watcher);
                                return;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "token-version watcher not started");
                            }
                        }
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
    }

    fn watcher(&self) -> Result<&NatsRevocation, RevocationUnavailable> {
        if self.is_behind() {
            return Err(RevocationUnavailable(
                "revocations wait in the outbox for NATS".to_owned(),
            ));
        }
        self.inner
            .get()
            .ok_or_else(|| RevocationUnavailable("token-version watcher not started".to_owned()))
    }
}

impl RevocationSource for LazyNatsRevocation {
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        match self.watcher() {
            Ok(w) => w.token_version(user_id),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        match self.watcher() {
            Ok(w) => w.is_jti_revoked(jti),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn is_revoked_now(&self, token: TokenRef<'_>) -> Option<Result<bool, RevocationUnavailable>> {
        match self.watcher() {
            Ok(w) => w.is_revoked_now(token),
            Err(e) => Some(Err(e)),
        }
    }

    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        match self.watcher() {
            Ok(w) => w.is_revoked(token),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

/// Reads `users.token_version` and `revoked_access_tokens` from Postgres.
///
/// A user without a row (hard-deleted) counts as revoked: [`RevocationSource::token_version`]
/// answers [`DELETED_USER_VERSION`], above any version a token can carry. The NATS bucket keeps
/// the version a delete bumped, so both sources refuse a deleted user's tokens.
#[derive(Debug, Clone)]
pub struct PgRevocation {
    db: PgPool,
}

impl PgRevocation {
    /// A source over `db`.
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }
}

/// The version [`PgRevocation`] answers for a user id without a `users` row.
pub const DELETED_USER_VERSION: u64 = u64::MAX;

fn unavailable(e: sqlx::Error) -> RevocationUnavailable {
    tracing::warn!(error = %e, "revocation lookup in Postgres failed");
    RevocationUnavailable("postgres unavailable".to_owned())
}

impl RevocationSource for PgRevocation {
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(async move {
            // not a user id of ours: no row can exist, so nothing was ever issued to it
            let Ok(id) = Uuid::parse_str(user_id) else {
                return Ok(DELETED_USER_VERSION);
            };
            let version: Option<i64> =
                sqlx::query_scalar("select token_version from users where id = $1")
                    .bind(id)
                    .fetch_optional(&self.db)
                    .await
                    .map_err(unavailable)?;
            Ok(version.map_or(DELETED_USER_VERSION, |v| {
                u64::try_from(v).unwrap_or(DELETED_USER_VERSION)
            }))
        })
    }

    /// One round trip: any revoked id of the token (`jti`, session), and the user's row.
    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(async move {
            let Ok(user) = Uuid::parse_str(token.user_id) else {
                return Ok(true);
            };
            let ids: Vec<Uuid> = token
                .revocable_ids()
                .filter_map(|id| Uuid::parse_str(id).ok())
                .collect();
            let (listed, version): (bool, Option<i64>) = sqlx::query_as(
                "select exists (select 1 from revoked_access_tokens
                                 where jti = any($1) and expires_at > now()),
                        (select token_version from users where id = $2)",
            )
            .bind(&ids)
            .bind(user)
            .fetch_one(&self.db)
            .await
            .map_err(unavailable)?;
            let current = version.map_or(DELETED_USER_VERSION, |v| {
                u64::try_from(v).unwrap_or(DELETED_USER_VERSION)
            });
            Ok(listed || token.token_version < current)
        })
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(async move {
            let Ok(id) = Uuid::parse_str(jti) else {
                return Ok(false);
            };
            let hit: Option<i32> = sqlx::query_scalar(
                "select 1 from revoked_access_tokens where jti = $1 and expires_at > now()",
            )
            .bind(id)
            .fetch_optional(&self.db)
            .await
            .map_err(unavailable)?;
            Ok(hit.is_some())
        })
    }
}
