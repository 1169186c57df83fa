//! Redis lookup (feature `redis`): `<prefix>user_tv:<uid>` and `<prefix>blacklist:<jti>`
//! (contract §5.3/§5.4 key names, default prefix `auth:`).
//!
//! One pipelined round trip per check. Any Redis error, timeout or unreadable value is
//! [`RevocationUnavailable`]: unlike the original server, we never fall back to "accept".

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{BoxFuture, RevocationSource, RevocationUnavailable, TokenRef};

/// The key prefix used by the platform.
pub const DEFAULT_PREFIX: &str = "auth:";

/// Revocation source reading the platform's Redis keys on every check.
#[derive(Clone)]
pub struct RedisRevocation {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRevocation")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisRevocation {
    /// Uses an existing connection manager and key prefix (e.g. [`DEFAULT_PREFIX`]).
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: prefix.into(),
        }
    }

    /// Connects lazily to `url` with 1 s connection and response timeouts, so an unreachable
    /// Redis makes lookups fail (closed) quickly instead of hanging. Must run inside tokio.
    pub fn connect_lazy(url: &str, prefix: impl Into<String>) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        Ok(Self::new(
            client.get_connection_manager_lazy(config)?,
            prefix,
        ))
    }

    fn tv_key(&self, user_id: &str) -> String {
        format!("{}user_tv:{user_id}", self.prefix)
    }

    fn jti_key(&self, jti: &str) -> String {
        format!("{}blacklist:{jti}", self.prefix)
    }
}

fn unavailable(e: &redis::RedisError) -> RevocationUnavailable {
    // The kind only: error text may carry connection details.
    RevocationUnavailable(format!("redis error ({:?})", e.kind()))
}

fn parse_version(raw: Option<Vec<u8>>) -> Result<u64, RevocationUnavailable> {
    let Some(raw) = raw else { return Ok(0) };
    std::str::from_utf8(&raw)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| RevocationUnavailable("unreadable token version in redis".into()))
}

impl RevocationSource for RedisRevocation {
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let raw: Option<Vec<u8>> = redis::cmd("GET")
                .arg(self.tv_key(user_id))
                .query_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))?;
            parse_version(raw)
        })
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("EXISTS")
                .arg(self.jti_key(jti))
                .query_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))
        })
    }

    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let keys: Vec<String> = token.revocable_ids().map(|id| self.jti_key(id)).collect();
            let (blacklisted, raw): (u32, Option<Vec<u8>>) = redis::pipe()
                .cmd("EXISTS")
                .arg(keys)
                .cmd("GET")
                .arg(self.tv_key(token.user_id))
                .query_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))?;
            Ok(blacklisted > 0 || token.token_version < parse_version(raw)?)
        })
    }
}
