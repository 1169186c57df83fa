//! Optional Redis with an in-process fallback, as contract §5.4 describes.
//!
//! [`Cache`] is cheap to clone. It holds an optional Redis [`redis::aio::ConnectionManager`]
//! (lazy, reconnecting by itself, every command bounded by [`CacheConfig::op_timeout`]) and a
//! bounded in-process store with TTLs. Every operation takes a [`Fallback`] so each caller
//! states what happens without Redis: use memory (per-IP limiter, SSO state, PKCE codes), skip
//! (idempotency, per-account limiter) or fail (token-version mirror: read Postgres instead).
//! After an availability failure Redis is skipped for [`CacheConfig::retry_interval`], so a dead
//! or paused Redis costs one timeout, not one per request. All keys get the configured prefix.
//!
//! # Layout
//! - `lib.rs`: [`Cache`] and its operations.
//! - `config.rs`: [`CacheConfig`], [`Fallback`], [`RedisHealth`], [`WindowCount`].
//! - `backend.rs`: the Redis connection, op timeout and back-off.
//! - `memory.rs`: the sharded, bounded in-process store.
//! - `scripts.rs`: the Lua script behind [`Cache::set_max`].
//! - `windows.rs`: [`Cache::add_to_windows`], batched window counters (per-IP limiter sync).
//! - `clock.rs`: [`Clock`], [`SystemClock`], [`ManualClock`] (injected in tests).
//! - `error.rs`: [`CacheError`].

mod backend;
mod clock;
mod config;
mod error;
mod memory;
mod scripts;
mod windows;

use std::{sync::Arc, time::Duration};

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{CacheConfig, Fallback, RedisHealth, WindowCount};
pub use error::CacheError;

use backend::{RedisBackend, Reply};
use memory::MemoryStore;

/// Shared handle to Redis (when configured) and the in-process store.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    prefix: String,
    redis: Option<RedisBackend>,
    memory: MemoryStore,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("prefix", &self.inner.prefix)
            .field("redis_configured", &self.inner.redis.is_some())
            .field("redis_up", &self.redis_up())
            .finish()
    }
}

/// Milliseconds for Redis PX/PEXPIRE arguments, never zero.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Cache {
    /// Build the cache and, when Redis is configured, try one PING within the connect timeout
    /// (a failure only logs and starts the back-off). Errors only on an unparsable URL.
    pub async fn connect(cfg: CacheConfig) -> Result<Self, CacheError> {
        Self::connect_with_clock(cfg, Arc::new(SystemClock)).await
    }

    /// As [`Cache::connect`], with an injected clock for TTLs and the back-off.
    pub async fn connect_with_clock(
        cfg: CacheConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CacheError> {
        let redis = match cfg.redis_url.as_deref() {
            Some(url) => Some(RedisBackend::new(url, &cfg, clock.clone())?),
            None => None,
        };
        if let Some(r) = &redis {
            r.ping(cfg.connect_timeout.max(cfg.op_timeout)).await;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                prefix: cfg.key_prefix,
                redis,
                memory: MemoryStore::new(
                    cfg.memory_max_entries,
                    cfg.memory_max_bytes,
                    clock.clone(),
                ),
                clock,
            }),
        })
    }

    /// A cache without Redis (in-process store only), default limits, the given prefix.
    pub fn memory_only(key_prefix: &str) -> Self {
        let cfg = CacheConfig {
            key_prefix: key_prefix.to_owned(),
            ..CacheConfig::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            inner: Arc::new(Inner {
                prefix: cfg.key_prefix,
                redis: None,
                memory: MemoryStore::new(
                    cfg.memory_max_entries,
                    cfg.memory_max_bytes,
                    clock.clone(),
                ),
                clock,
            }),
        }
    }

    /// The full key (prefix included) that `key` is stored under.
    pub fn prefixed(&self, key: &str) -> String {
        format!("{}{}", self.inner.prefix, key)
    }

    /// The time source of TTLs and the back-off (a [`ManualClock`] in tests).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// Whether a Redis URL was configured at all.
    pub fn redis_configured(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// True when Redis is configured and not in back-off after a failure. Cheap, no I/O.
    pub fn redis_up(&self) -> bool {
        self.inner.redis.as_ref().is_some_and(RedisBackend::is_up)
    }

    /// PING Redis now (for `/ready`), bounded by the op timeout.
    pub async fn ping(&self) -> RedisHealth {
        match &self.inner.redis {
            None => RedisHealth::NotConfigured,
            Some(r) if r.ping(r.op_timeout()).await => RedisHealth::Up,
            Some(_) => RedisHealth::Down,
        }
    }

    fn fallback<T>(fb: Fallback, memory: impl FnOnce() -> T, skip: T) -> Result<T, CacheError> {
        match fb {
            Fallback::Memory => Ok(memory()),
            Fallback::Skip => Ok(skip),
            Fallback::Fail => Err(CacheError::Unavailable),
        }
    }

    /// GET. Skip: a miss.
    pub async fn get(&self, key: &str, fb: Fallback) -> Result<Option<Vec<u8>>, CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            let mut cmd = redis::cmd("GET");
            cmd.arg(&k);
            if let Some(v) = r.query::<Option<Vec<u8>>>(cmd).await.ok() {
                return Ok(v);
            }
        }
        Self::fallback(fb, || self.inner.memory.get(&k), None)
    }

    /// SET with a TTL. Skip: the write is dropped.
    pub async fn set_ex(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        fb: Fallback,
    ) -> Result<(), CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&k).arg(value).arg("PX").arg(millis(ttl));
            if r.query::<()>(cmd).await.ok().is_some() {
                return Ok(());
            }
        }
        Self::fallback(fb, || self.inner.memory.set_ex(&k, value, ttl), ())
    }

    /// SET NX with a TTL; true when this call stored the value, false when the key is held.
    /// Skip: false (nothing stored; use [`Fallback::Fail`] to tell that apart from "held").
    ///
    /// # Errors
    /// [`CacheError::Rejected`] when Redis answered with an error reply (`OOM`, `READONLY`,
    /// ...): nothing was stored and, whatever `fb` says, the memory store is not used, since
    /// Redis (reachable) stays the authority on who holds the key.
    /// [`CacheError::Unavailable`] with [`Fallback::Fail`] when Redis is not answering.
    pub async fn set_nx_ex(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        fb: Fallback,
    ) -> Result<bool, CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&k).arg(value).arg("NX").arg("PX").arg(millis(ttl));
            match r.query::<Option<String>>(cmd).await {
                Reply::Value(v) => return Ok(v.is_some()),
                Reply::Refused(code) => return Err(CacheError::Rejected(code)),
                Reply::Unavailable => {}
            }
        }
        Self::fallback(fb, || self.inner.memory.set_nx_ex(&k, value, ttl), false)
    }

    /// Forward-only write of an integer, without TTL: stores `value` when `key` is absent or
    /// holds a smaller integer; true when this call stored it. Redis: one `EVAL` of a small
    /// script (exact decimal comparison, so any `i64` compares right), which also removes a
    /// TTL the key had. Memory: the same rule. Skip: false (nothing stored).
    ///
    /// # Errors
    /// [`CacheError::Rejected`] when the key holds something that is not an integer, or Redis
    /// answered with an error reply (the memory store is then not used);
    /// [`CacheError::Unavailable`] with [`Fallback::Fail`] when Redis is not answering.
    pub async fn set_max(&self, key: &str, value: i64, fb: Fallback) -> Result<bool, CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            match r.query::<i64>(scripts::set_max_cmd(&k, value)).await {
                Reply::Value(stored) => return Ok(stored == 1),
                Reply::Refused(code) => return Err(CacheError::Rejected(code)),
                Reply::Unavailable => {}
            }
        }
        match fb {
            Fallback::Memory => self
                .inner
                .memory
                .set_max(&k, value)
                .map_err(|memory::NotInteger| CacheError::Rejected("not an integer".to_owned())),
            Fallback::Skip => Ok(false),
            Fallback::Fail => Err(CacheError::Unavailable),
        }
    }

    /// GETDEL: read and remove in one step (one-shot values such as SSO state). Skip: a miss.
    pub async fn get_del(&self, key: &str, fb: Fallback) -> Result<Option<Vec<u8>>, CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            let mut cmd = redis::cmd("GETDEL");
            cmd.arg(&k);
            if let Some(v) = r.query::<Option<Vec<u8>>>(cmd).await.ok() {
                return Ok(v);
            }
        }
        Self::fallback(fb, || self.inner.memory.get_del(&k), None)
    }

    /// DEL; true when a key was removed. Skip: false.
    pub async fn del(&self, key: &str, fb: Fallback) -> Result<bool, CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            let mut cmd = redis::cmd("DEL");
            cmd.arg(&k);
            if let Some(n) = r.query::<u64>(cmd).await.ok() {
                return Ok(n > 0);
            }
        }
        Self::fallback(fb, || self.inner.memory.del(&k), false)
    }

    /// Count one hit against `key` for `window`.
    ///
    /// Redis: `INCR` then `PEXPIRE window` on every hit, in one MULTI (like the original, the
    /// TTL is re-armed on each hit, so the counter clears only after a quiet window). Memory: a
    /// true fixed window starting at the first hit. Skip: `None` (not counted).
    pub async fn incr_window(
        &self,
        key: &str,
        window: Duration,
        fb: Fallback,
    ) -> Result<Option<WindowCount>, CacheError> {
        let k = self.prefixed(key);
        if let Some(r) = &self.inner.redis {
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("INCR")
                .arg(&k)
                .cmd("PEXPIRE")
                .arg(&k)
                .arg(millis(window))
                .ignore();
            let counted = r
                .run(|mut c| async move { pipe.query_async::<(u64,)>(&mut c).await })
                .await
                .ok();
            if let Some((count,)) = counted {
                return Ok(Some(WindowCount {
                    count,
                    resets_in: window,
                }));
            }
        }
        Self::fallback(
            fb,
            || {
                let (count, resets_in) = self.inner.memory.incr_window(&k, window);
                Some(WindowCount { count, resets_in })
            },
            None,
        )
    }
}
