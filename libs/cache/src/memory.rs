//! The in-process store used when Redis is absent or down.
//!
//! A sharded map whose every entry carries an expiry. Memory stays bounded under a flood of
//! distinct keys: each shard has an entry cap and a byte cap; when a write would pass either,
//! expired entries are purged, and if that is not enough the entries closest to expiry (one
//! eighth of the shard) are evicted. A single value larger than a shard's byte cap is not stored.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use crate::clock::Clock;

/// Number of independently locked shards.
const SHARDS: usize = 16;
/// Rough bookkeeping cost of one entry besides its key and value bytes.
const ENTRY_OVERHEAD: usize = 64;
/// How far ahead "no TTL" lies (about a century; entries never live that long in a process).
const NO_EXPIRY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// [`MemoryStore::set_max`] found a value that is not an integer.
#[derive(Debug)]
pub(crate) struct NotInteger;

enum Value {
    Bytes(Vec<u8>),
    Counter(u64),
}

impl Value {
    fn len(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Counter(_) => 8,
        }
    }

    fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            Value::Counter(n) => i64::try_from(*n).ok(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.clone(),
            Value::Counter(n) => n.to_string().into_bytes(),
        }
    }
}

struct Entry {
    value: Value,
    expires_at: Instant,
}

#[derive(Default)]
struct Shard {
    map: HashMap<String, Entry>,
    bytes: usize,
}

fn cost(key: &str, value: &Value) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

impl Shard {
    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.map.remove(key)?;
        self.bytes = self.bytes.saturating_sub(cost(key, &entry.value));
        Some(entry)
    }

    /// The live entry under `key`, dropping it first if it has expired.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.map.get(key).is_some_and(|e| e.expires_at <= now) {
            self.remove(key);
        }
        self.map.get_mut(key)
    }

    fn purge_expired(&mut self, now: Instant) {
        let mut freed = 0;
        self.map.retain(|k, e| {
            let keep = e.expires_at > now;
            if !keep {
                freed += cost(k, &e.value);
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
    }

    fn evict_soonest(&mut self) {
        let n = (self.map.len() / 8).max(1);
        let mut by_expiry: Vec<(Instant, String)> = self
            .map
            .iter()
            .map(|(k, e)| (e.expires_at, k.clone()))
            .collect();
        // n <= len because the caller never evicts from an empty shard.
        by_expiry.select_nth_unstable_by_key(n - 1, |x| x.0);
        for (_, key) in by_expiry.into_iter().take(n) {
            self.remove(&key);
        }
    }
}

/// Bounded, TTL-aware in-process key-value store.
pub(crate) struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    max_entries: usize,
    max_bytes: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// A store holding at most about `max_entries` entries and `max_bytes` bytes in total.
    pub(crate) fn new(max_entries: usize, max_bytes: usize, clock: Arc<dyn Clock>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            max_entries: (max_entries / SHARDS).max(1),
            max_bytes: (max_bytes / SHARDS).max(ENTRY_OVERHEAD * 2),
            clock,
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let idx = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        // A poisoned shard only means another thread panicked mid-operation; the map itself
        // is still structurally valid, so keep serving it.
        self.shards[idx]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store `value` under `key`, making room first; false when the value can never fit.
    fn insert(&self, shard: &mut Shard, key: &str, value: Value, expires_at: Instant) -> bool {
        let new_cost = cost(key, &value);
        if new_cost > self.max_bytes {
            shard.remove(key);
            return false;
        }
        shard.remove(key);
        let now = self.clock.now();
        let full =
            |s: &Shard| s.map.len() >= self.max_entries || s.bytes + new_cost > self.max_bytes;
        if full(shard) {
            shard.purge_expired(now);
        }
        while full(shard) && !shard.map.is_empty() {
            shard.evict_soonest();
        }
        shard.bytes += new_cost;
        shard
            .map
            .insert(key.to_owned(), Entry { value, expires_at });
        true
    }

    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = self.clock.now();
        self.shard(key).live(key, now).map(|e| e.value.to_bytes())
    }

    pub(crate) fn set_ex(&self, key: &str, value: &[u8], ttl: Duration) {
        let expires_at = self.clock.now() + ttl;
        let mut shard = self.shard(key);
        self.insert(&mut shard, key, Value::Bytes(value.to_vec()), expires_at);
    }

    pub(crate) fn set_nx_ex(&self, key: &str, value: &[u8], ttl: Duration) -> bool {
        let now = self.clock.now();
        let mut shard = self.shard(key);
        if shard.live(key, now).is_some() {
            return false;
        }
        self.insert(&mut shard, key, Value::Bytes(value.to_vec()), now + ttl)
    }

    /// Store `value` without expiry when `key` is absent or holds a smaller integer; true
    /// when stored.
    pub(crate) fn set_max(&self, key: &str, value: i64) -> Result<bool, NotInteger> {
        let now = self.clock.now();
        let mut shard = self.shard(key);
        if let Some(entry) = shard.live(key, now) {
            let current = entry.value.as_integer().ok_or(NotInteger)?;
            if current >= value {
                return Ok(false);
            }
        }
        let never = now
            .checked_add(NO_EXPIRY)
            .or_else(|| now.checked_add(NO_EXPIRY / 100))
            .unwrap_or(now + Duration::from_secs(24 * 3600));
        let bytes = value.to_string().into_bytes();
        Ok(self.insert(&mut shard, key, Value::Bytes(bytes), never))
    }

    pub(crate) fn get_del(&self, key: &str) -> Option<Vec<u8>> {
        let now = self.clock.now();
        let mut shard = self.shard(key);
        shard.live(key, now)?;
        shard.remove(key).map(|e| e.value.to_bytes())
    }

    pub(crate) fn del(&self, key: &str) -> bool {
        let now = self.clock.now();
        let mut shard = self.shard(key);
        let existed = shard.live(key, now).is_some();
        shard.remove(key);
        existed
    }

    /// Count one hit in a true fixed window: the window starts at the first hit and the
    /// counter restarts once it has passed. Returns the count and the time left in the window.
    pub(crate) fn incr_window(&self, key: &str, window: Duration) -> (u64, Duration) {
        let now = self.clock.now();
        let mut shard = self.shard(key);
        if let Some(entry) = shard.live(key, now)
            && let Value::Counter(n) = &mut entry.value
        {
            *n = n.saturating_add(1);
            return (*n, entry.expires_at.saturating_duration_since(now));
        }
        self.insert(&mut shard, key, Value::Counter(1), now + window);
        (1, window)
    }

    /// Number of live and not yet purged entries (for tests of the bound).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|s| s.map.len()).unwrap_or(0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn store(entries: usize, bytes: usize) -> (MemoryStore, ManualClock) {
        let clock = ManualClock::new();
        (
            MemoryStore::new(entries, bytes, Arc::new(clock.clone())),
            clock,
        )
    }

    #[test]
    fn values_expire_with_the_injected_clock() {
        let (s, clock) = store(1000, 1 << 20);
        s.set_ex("a", b"1", Duration::from_secs(10));
        clock.advance(Duration::from_secs(9));
        assert_eq!(s.get("a").as_deref(), Some(&b"1"[..]));
        clock.advance(Duration::from_secs(1));
        assert_eq!(s.get("a"), None);
    }

    #[test]
    fn fixed_window_restarts_after_the_window() {
        let (s, clock) = store(1000, 1 << 20);
        let w = Duration::from_secs(60);
        assert_eq!(s.incr_window("k", w).0, 1);
        clock.advance(Duration::from_secs(30));
        let (n, left) = s.incr_window("k", w);
        assert_eq!((n, left), (2, Duration::from_secs(30)));
        clock.advance(Duration::from_secs(30));
        assert_eq!(s.incr_window("k", w).0, 1);
    }

    #[test]
    fn set_nx_and_get_del_are_one_shot() {
        let (s, clock) = store(1000, 1 << 20);
        let ttl = Duration::from_secs(5);
        assert!(s.set_nx_ex("k", b"v", ttl));
        assert!(!s.set_nx_ex("k", b"w", ttl));
        assert_eq!(s.get_del("k").as_deref(), Some(&b"v"[..]));
        assert_eq!(s.get_del("k"), None);
        assert!(s.set_nx_ex("k", b"v", ttl));
        clock.advance(ttl);
        assert!(s.set_nx_ex("k", b"w", ttl));
        assert!(s.del("k"));
        assert!(!s.del("k"));
    }

    #[test]
    fn set_max_only_moves_forward_and_never_expires() {
        let (s, clock) = store(1000, 1 << 20);
        assert!(s.set_max("tv", 5).unwrap());
        assert!(!s.set_max("tv", 3).unwrap());
        assert!(!s.set_max("tv", 5).unwrap());
        assert!(s.set_max("tv", 7).unwrap());
        clock.advance(Duration::from_secs(50 * 365 * 24 * 3600));
        assert_eq!(s.get("tv").as_deref(), Some(&b"7"[..]));
        assert!(s.set_max("neg", i64::MIN).unwrap());
        assert!(s.set_max("neg", -1).unwrap());
        // A value with a TTL is replaced by one without.
        s.set_ex("ttl", b"1", Duration::from_secs(1));
        assert!(s.set_max("ttl", 2).unwrap());
        clock.advance(Duration::from_secs(2));
        assert_eq!(s.get("ttl").as_deref(), Some(&b"2"[..]));
        s.set_ex("text", b"abc", Duration::from_secs(60));
        assert!(s.set_max("text", 1).is_err());
    }

    #[test]
    fn flood_of_distinct_keys_stays_bounded() {
        let (s, _clock) = store(1_600, 1 << 30);
        for i in 0..200_000u32 {
            s.incr_window(&format!("ratelimit:{i}"), Duration::from_secs(60));
        }
        assert!(s.len() <= 1_600, "len {}", s.len());
        // The most recent key survived.
        assert_eq!(s.get("ratelimit:199999").as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn byte_cap_holds_and_oversized_values_are_refused() {
        let (s, _clock) = store(1 << 20, 16 * 4096);
        let big = vec![0u8; 3000];
        for i in 0..1000 {
            s.set_ex(&format!("k{i}"), &big, Duration::from_secs(60));
        }
        let total: usize = s
            .shards
            .iter()
            .map(|sh| sh.lock().map(|sh| sh.bytes).unwrap_or(0))
            .sum();
        assert!(total <= 16 * 4096, "bytes {total}");
        s.set_ex("huge", &vec![0u8; 10_000], Duration::from_secs(60));
        assert_eq!(s.get("huge"), None);
    }

    #[test]
    fn expired_entries_are_purged_before_anything_live_is_evicted() {
        let (s, clock) = store(16 * 4, 1 << 30);
        for i in 0..200 {
            s.set_ex(&format!("old{i}"), b"x", Duration::from_secs(1));
        }
        clock.advance(Duration::from_secs(2));
        s.set_ex("fresh", b"y", Duration::from_secs(60));
        assert_eq!(s.get("fresh").as_deref(), Some(&b"y"[..]));
    }
}
