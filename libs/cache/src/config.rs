//! Configuration and per-call fallback policy.

use std::time::Duration;

/// How the cache is set up. Plain data: the settings crate fills it from the environment.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// `redis://[:password@]host:port/db`; `None` runs on the in-process store only.
    pub redis_url: Option<String>,
    /// Prepended to every key (Redis and memory), e.g. `auth:`.
    pub key_prefix: String,
    /// Upper bound for one Redis command, connection wait included.
    pub op_timeout: Duration,
    /// Upper bound for establishing a TCP connection to Redis.
    pub connect_timeout: Duration,
    /// After an availability failure, Redis is not tried again for this long.
    pub retry_interval: Duration,
    /// Entry cap of the in-process store (all shards together).
    pub memory_max_entries: usize,
    /// Byte cap of the in-process store (keys, values and bookkeeping, all shards together).
    pub memory_max_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            key_prefix: "auth:".to_owned(),
            op_timeout: Duration::from_millis(100),
            connect_timeout: Duration::from_millis(500),
            retry_interval: Duration::from_secs(1),
            memory_max_entries: 100_000,
            memory_max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What an operation does when Redis is not configured or not answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fallback {
    /// Use the in-process store (single-replica semantics).
    Memory,
    /// Do nothing: reads miss, writes are dropped, counters are not counted.
    Skip,
    /// Return [`crate::CacheError::Unavailable`] so the caller can decide (e.g. read Postgres).
    Fail,
}

/// Answer of [`crate::Cache::ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisHealth {
    /// No Redis URL configured; the in-process store is in use.
    NotConfigured,
    /// Redis answered PING within the op timeout.
    Up,
    /// Redis is configured but did not answer.
    Down,
}

/// Result of counting one hit with [`crate::Cache::incr_window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Hits in the current window, this one included.
    pub count: u64,
    /// Time until the counter clears if no further hit arrives.
    pub resets_in: Duration,
}
