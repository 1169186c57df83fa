//! The Redis mirror of token versions (`auth:user_tv:<uid>`, ARCHITECTURE §3).

use std::time::Duration;

use auth_bus::token_version::{MirrorError, TokenVersionMirror};
use auth_cache::{Cache, Fallback};
use jwt_verify::revocation::BoxFuture;
use uuid::Uuid;

/// How long a mirrored version is kept. A version only matters while access tokens issued
/// before the bump can still be alive (at most one access lifetime), so a day is plenty.
const MIRROR_TTL: Duration = Duration::from_secs(24 * 3600);

/// Writes each bumped version to Redis, for consumers that read it there.
#[derive(Clone)]
pub struct RedisTokenVersionMirror {
    cache: Cache,
}

impl RedisTokenVersionMirror {
    /// A mirror writing through `cache` (no-op without Redis: the mirror is only a copy).
    pub fn new(cache: Cache) -> Self {
        Self { cache }
    }
}

impl TokenVersionMirror for RedisTokenVersionMirror {
    fn set_version(&self, user_id: Uuid, version: i64) -> BoxFuture<'_, Result<(), MirrorError>> {
        Box::pin(async move {
            let key = format!("user_tv:{user_id}");
            self.cache
                .set_ex(
                    &key,
                    version.to_string().as_bytes(),
                    MIRROR_TTL,
                    Fallback::Skip,
                )
                .await
                .map_err(|e| Box::new(e) as MirrorError)
        })
    }
}
