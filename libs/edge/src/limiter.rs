//! [`RateLimiter`]: the per-IP budget (contract §8, API-03) counted in process memory and
//! synchronised with Redis in batches.
//!
//! Each replica counts the hits of every client key (the IPv4 address, or the IPv6 /64) in a
//! sharded in-process table. One background task per limiter (one per process: the edge is
//! built once) wakes every [`EdgeConfig::rate_limit_sync_interval`] (50 ms by default), pushes
//! the increments counted since its last pass to Redis in one pipeline
//! ([`auth_cache::Cache::add_to_windows`]: `SET NX PX` that starts the window, `INCRBY`,
//! `PTTL`) and learns back each key's global count and the time left in its window. A request
//! is refused when *last known global count + hits not yet acknowledged by Redis* exceeds the
//! limit; refused requests count too.
//!
//! - **One replica** counts exactly: the N+1-th request of a window is refused (429
//!   `RATE_LIMITED`, `Retry-After` the end of the window), whether or not Redis answers.
//! - **Several replicas** each see the others' hits one sync later, so a client spreading its
//!   requests over R replicas can get through at most what the other R−1 replicas admit within
//!   one sync interval plus one Redis round trip (≤ 100 ms op timeout) beyond the limit, and
//!   never more than R × the limit in one window (each replica alone stops at the limit).
//! - **Windows** are fixed: the first hit anywhere starts it in Redis (`SET NX PX`), later hits
//!   never extend it; a replica adopts the Redis window's end when it syncs, and forgets a
//!   key locally when its window is over.
//! - **Redis down** (FLT-04): the counts keep working from memory (single-replica semantics);
//!   the unsent increments stay queued, and the first sync after Redis answers again pushes
//!   them, with no restart or operator action.
//! - **Bounded memory**: at most [`EdgeConfig::rate_limit_max_keys`] keys are tracked (about
//!   100 bytes each). When the table is full, expired keys are purged (at most once a second
//!   per shard); a client that still finds no room is counted the pre-batching way, one
//!   `INCR` + `PEXPIRE` round trip to Redis per request (or the cache's bounded in-process
//!   store while Redis is down), so limiting stays exact and memory stays capped during a
//!   flood of distinct addresses, at the cost of a round trip per request of the overflow.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    net::{IpAddr, Ipv6Addr},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, Weak,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use auth_cache::{Cache, Clock, WindowCount};

use crate::{EdgeConfig, client_ip::limiter_key};

/// Independently locked parts of the table.
const SHARDS: usize = 32;
/// A full shard purges its expired keys at most this often.
const PURGE_EVERY: Duration = Duration::from_secs(1);

/// What one counted hit came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    /// Within the budget.
    Allowed,
    /// Over the budget; the window ends after this long.
    Limited(Duration),
    /// The table is full: count this one in the cache directly.
    Untracked,
}

/// One client key's window on this replica.
struct Entry {
    /// Identifies this window, so a Redis reply for an earlier one is not applied to it.
    window_id: u64,
    /// When the window ends (local estimate, then Redis' answer).
    ends: Instant,
    /// Global count at the last sync (this replica's synced hits included).
    global: u64,
    /// Hits sent in the sync under way, not yet acknowledged.
    sending: u64,
    /// Hits not sent yet.
    pending: u64,
    /// Whether the key is in its shard's `dirty` list.
    queued: bool,
}

impl Entry {
    fn count(&self) -> u64 {
        self.global
            .saturating_add(self.sending)
            .saturating_add(self.pending)
    }
}

#[derive(Default)]
struct Shard {
    entries: HashMap<IpAddr, Entry>,
    /// Keys with pending hits, in no particular order, each at most once while `queued`.
    dirty: Vec<IpAddr>,
    purged_at: Option<Instant>,
}

/// The per-IP limiter of one edge (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Table>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.inner.limit)
            .field("window", &self.inner.window)
            .field("tracked", &self.tracked())
            .finish()
    }
}

struct Table {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    limit: u64,
    window: Duration,
    interval: Duration,
    max_keys: usize,
    len: AtomicUsize,
    next_window: AtomicU64,
    cache: Cache,
    clock: Arc<dyn Clock>,
    /// Serialises syncs (the background task and [`RateLimiter::sync`] callers).
    syncing: tokio::sync::Mutex<usize>,
    task_started: AtomicBool,
}

/// The table key of an address: itself for IPv4, its /64 for IPv6 (see [`limiter_key`]).
fn table_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

impl RateLimiter {
    /// A limiter for `cfg`'s budget, syncing through `cache` (when it has Redis) on
    /// `cfg`'s interval. The sync task starts with the first counted request.
    pub fn new(cfg: &EdgeConfig, cache: Cache) -> Self {
        Self {
            inner: Arc::new(Table {
                shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
                hasher: RandomState::new(),
                limit: cfg.rate_limit_requests.max(1),
                window: cfg.rate_limit_window,
                interval: cfg.rate_limit_sync_interval.max(Duration::from_millis(1)),
                max_keys: cfg.rate_limit_max_keys,
                len: AtomicUsize::new(0),
                next_window: AtomicU64::new(0),
                clock: cache.clock(),
                cache,
                syncing: tokio::sync::Mutex::new(0),
                task_started: AtomicBool::new(false),
            }),
        }
    }

    /// Client keys tracked in memory right now (at most `rate_limit_max_keys`).
    pub fn tracked(&self) -> usize {
        self.inner.len.load(Ordering::Relaxed)
    }

    /// The cache the limiter syncs through.
    pub(crate) fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// The budget's window.
    pub(crate) fn window(&self) -> Duration {
        self.inner.window
    }

    /// The budget.
    pub(crate) fn limit(&self) -> u64 {
        self.inner.limit
    }

    fn shard(&self, key: &IpAddr) -> MutexGuard<'_, Shard> {
        let t = &self.inner;
        let i = usize::try_from(t.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        t.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Count one request from `ip`.
    pub(crate) fn hit(&self, ip: IpAddr) -> Hit {
        self.start_task();
        let t = &self.inner;
        let key = table_key(ip);
        let now = t.clock.now();
        let mut guard = self.shard(&key);
        let shard = &mut *guard;
        if t.len.load(Ordering::Relaxed) >= t.max_keys
            && !shard.entries.contains_key(&key)
            && !self.make_room(shard, now)
        {
            return Hit::Untracked;
        }
        let e = shard.entries.entry(key).or_insert_with(|| {
            t.len.fetch_add(1, Ordering::Relaxed);
            self.fresh(now)
        });
        if now >= e.ends {
            let queued = e.queued;
            *e = self.fresh(now);
            e.queued = queued;
        }
        e.pending = e.pending.saturating_add(1);
        let over = e.count() > t.limit;
        let left = e.ends.saturating_duration_since(now);
        if !e.queued && t.cache.redis_configured() {
            e.queued = true;
            shard.dirty.push(key);
        }
        if over {
            Hit::Limited(left)
        } else {
            Hit::Allowed
        }
    }

    fn fresh(&self, now: Instant) -> Entry {
        Entry {
            window_id: self.inner.next_window.fetch_add(1, Ordering::Relaxed),
            ends: now + self.inner.window,
            global: 0,
            sending: 0,
            pending: 0,
            queued: false,
        }
    }

    /// Whether a new key fits; purges the shard's expired keys when the table is full.
    fn make_room(&self, shard: &mut Shard, now: Instant) -> bool {
        let t = &self.inner;
        if t.len.load(Ordering::Relaxed) < t.max_keys {
            return true;
        }
        if shard
            .purged_at
            .is_some_and(|at| now.saturating_duration_since(at) < PURGE_EVERY)
        {
            return false;
        }
        shard.purged_at = Some(now);
        self.purge(shard, now);
        t.len.load(Ordering::Relaxed) < t.max_keys
    }

    /// Drop the shard's keys whose window is over (and their stale `dirty` places).
    fn purge(&self, shard: &mut Shard, now: Instant) {
        let before = shard.entries.len();
        shard.entries.retain(|_, e| now < e.ends || e.sending > 0);
        let removed = before - shard.entries.len();
        if removed > 0 {
            self.inner.len.fetch_sub(removed, Ordering::Relaxed);
            let entries = &shard.entries;
            shard
                .dirty
                .retain(|k| entries.get(k).is_some_and(|e| e.queued));
            let mut seen = std::collections::HashSet::with_capacity(shard.dirty.len());
            shard.dirty.retain(|k| seen.insert(*k));
        }
    }

    fn start_task(&self) {
        if self.inner.task_started.load(Ordering::Relaxed)
            || self.inner.task_started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(run(Arc::downgrade(&self.inner)));
            }
            Err(_) => self.inner.task_started.store(false, Ordering::Release),
        }
    }

    /// One sync now: send the increments counted since the last one to Redis and learn the
    /// global counts back, then drop one shard's expired keys. The background task calls
    /// this on its interval; call it yourself before reading Redis in a test, or at shutdown.
    pub async fn sync(&self) {
        let mut cursor = self.inner.syncing.lock().await;
        if self.inner.cache.redis_up() {
            self.push().await;
        }
        let now = self.inner.clock.now();
        let i = *cursor % SHARDS;
        *cursor = cursor.wrapping_add(1);
        let mut shard = self.inner.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.purge(&mut shard, now);
    }

    /// Take every queued key's pending hits, send them, apply the answers.
    async fn push(&self) {
        let mut batch: Vec<(IpAddr, u64, u64)> = Vec::new();
        for s in &self.inner.shards {
            let mut shard = s.lock().unwrap_or_else(PoisonError::into_inner);
            let shard = &mut *shard;
            for key in shard.dirty.drain(..) {
                if let Some(e) = shard.entries.get_mut(&key)
                    && e.queued
                {
                    e.queued = false;
                    if e.pending > 0 {
                        e.sending = e.sending.saturating_add(e.pending);
                        batch.push((key, e.window_id, e.pending));
                        e.pending = 0;
                    }
                }
            }
        }
        if batch.is_empty() {
            return;
        }
        let adds: Vec<(String, u64)> = batch
            .iter()
            .map(|(ip, _, n)| (format!("ratelimit:{}", limiter_key(*ip)), *n))
            .collect();
        let answer = self
            .inner
            .cache
            .add_to_windows(&adds, self.inner.window)
            .await;
        if let Err(e) = &answer {
            tracing::debug!(error = %e, keys = batch.len(), "rate limit sync deferred");
        }
        let now = self.inner.clock.now();
        for (i, (key, window_id, n)) in batch.into_iter().enumerate() {
            let got = answer.as_ref().ok().and_then(|a| a.get(i));
            let mut shard = self.shard(&key);
            let shard = &mut *shard;
            let Some(e) = shard.entries.get_mut(&key) else {
                continue;
            };
            if e.window_id != window_id {
                continue;
            }
            e.sending = e.sending.saturating_sub(n);
            apply(e, got, n, now);
            if e.pending > 0 && !e.queued {
                e.queued = true;
                shard.dirty.push(key);
            }
        }
    }
}

/// Apply Redis' answer for `n` sent hits, or put them back in the queue without one.
fn apply(e: &mut Entry, got: Option<&WindowCount>, n: u64, now: Instant) {
    match got {
        Some(w) => {
            e.global = w.count;
            e.ends = now + w.resets_in;
        }
        None => e.pending = e.pending.saturating_add(n),
    }
}

/// The background sync: one pass per interval until the limiter is dropped.
async fn run(table: Weak<Table>) {
    let interval = match table.upgrade() {
        Some(t) => t.interval,
        None => return,
    };
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = table.upgrade() else {
            return;
        };
        RateLimiter { inner }.sync().await;
    }
}
