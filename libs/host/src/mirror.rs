//! The Redis mirror of token versions (`auth:user_tv:<uid>`, ARCHITECTURE §3, contract §5.3).

use auth_bus::token_version::{MirrorError, TokenVersionMirror};
use auth_cache::{Cache, Fallback};
use jwt_verify::revocation::BoxFuture;
use uuid::Uuid;

/// Writes each bumped version to Redis for consumers that read it there (jwt-verify's Redis
/// source). Forward-only (an older bump relayed late never lowers it) and without TTL, as
/// the original's `INCR`. While a configured Redis is down the write fails, so the relay
/// keeps the outbox row and retries; without Redis configured there is nothing to mirror.
#[derive(Clone)]
pub struct RedisTokenVersionMirror {
    cache: Cache,
}

impl RedisTokenVersionMirror {
    /// A mirror writing through `cache`.
    pub fn new(cache: Cache) -> Self {
        Self { cache }
    }
}

impl TokenVersionMirror for RedisTokenVersionMirror {
    fn set_version(&self, user_id: Uuid, version: i64) -> BoxFuture<'_, Result<(), MirrorError>> {
        Box::pin(async move {
            if !self.cache.redis_configured() {
                return Ok(());
            }
            self.cache
                .set_max(&format!("user_tv:{user_id}"), version, Fallback::Fail)
                .await
                .map(|_| ())
                .map_err(|e| Box::new(e) as MirrorError)
        })
    }
}
