//! M2M-07: failed client authentications at `POST /oauth/token` are counted per client id
//! and source address; after [`THRESHOLD`] failures the pair is refused with 429 until the
//! counter clears, without looking at the secret or the client.
//!
//! - The key is `authz:m2m_fail:<sha256(client_id, ip)>`, whether or not the client exists,
//!   and the refusal happens before any lookup, so it tells nothing about existence (M2M-01).
//! - Keyed by the pair, an attacker can only lock out its own address: the real client,
//!   calling from elsewhere, is never refused because of someone else's guesses.
//! - Counters live in Redis (shared by replicas; `INCR` + `PEXPIRE` [`WINDOW`], re-armed on
//!   each counted failure), else in the in-process store (a fixed window). Refused requests
//!   are not counted, so a lock clears at most [`WINDOW`] after the last counted failure.
//! - To keep successful grants free of a Redis read, a pair recently seen below the
//!   threshold is remembered in-process for [`CLEAR_FOR`]; any failure drops that note.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use auth_cache::{Cache, Fallback};
use sha2::{Digest, Sha256};

/// Failures of one (client id, address) pair that are still answered normally.
pub const THRESHOLD: u64 = 10;
/// How long a counter lives after its last counted failure.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a pair read below the threshold is trusted without re-reading the counter.
pub const CLEAR_FOR: Duration = Duration::from_secs(1);
/// Most pairs remembered as clear (further ones are simply re-read).
const MAX_CLEAR: usize = 10_000;

/// The counters (see the module docs).
#[derive(Debug)]
pub struct Throttle {
    cache: Cache,
    clear: Mutex<HashMap<String, Instant>>,
}

/// The counter key of a (client id, address) pair (before the cache prefix).
#[must_use]
pub fn key(client_id: &str, ip: &str) -> String {
    let mut h = Sha256::new();
    h.update((client_id.len() as u64).to_be_bytes());
    h.update(client_id.as_bytes());
    h.update(ip.as_bytes());
    format!("authz:m2m_fail:{}", hex::encode(h.finalize()))
}

impl Throttle {
    /// Counters in `cache`.
    #[must_use]
    pub fn new(cache: Cache) -> Self {
        Self {
            cache,
            clear: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(retry_after)` when the pair is locked out.
    pub async fn locked(&self, client_id: &str, ip: &str) -> Option<Duration> {
        let k = key(client_id, ip);
        {
            let clear = self.clear.lock().unwrap_or_else(PoisonError::into_inner);
            if clear.get(&k).is_some_and(|at| at.elapsed() < CLEAR_FOR) {
                return None;
            }
        }
        let count = match self.cache.get(&k, Fallback::Memory).await {
            Ok(Some(v)) => std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0),
            Ok(None) => 0,
            Err(e) => {
                // fail open: the per-IP limiter still applies
                tracing::warn!(error = %e, "m2m throttle counter unreadable");
                0
            }
        };
        if count >= THRESHOLD {
            return Some(WINDOW);
        }
        let mut clear = self.clear.lock().unwrap_or_else(PoisonError::into_inner);
        if clear.len() >= MAX_CLEAR {
            clear.retain(|_, at| at.elapsed() < CLEAR_FOR);
        }
        if clear.len() < MAX_CLEAR {
            clear.insert(k, Instant::now());
        }
        None
    }

    /// Counts one failure of the pair; returns the count (0 when it could not be counted).
    pub async fn failed(&self, client_id: &str, ip: &str) -> u64 {
        let k = key(client_id, ip);
        self.clear
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&k);
        match self.cache.incr_window(&k, WINDOW, Fallback::Memory).await {
            Ok(Some(c)) => c.count,
            Ok(None) => 0,
            Err(e) => {
                tracing::warn!(error = %e, "m2m throttle counter not incremented");
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pair_locks_after_the_threshold_and_others_stay_open() {
        let t = Throttle::new(Cache::memory_only("t:"));
        for _ in 0..THRESHOLD {
            assert_eq!(t.locked("c", "1.2.3.4").await, None);
            t.failed("c", "1.2.3.4").await;
        }
        assert_eq!(t.locked("c", "1.2.3.4").await, Some(WINDOW));
        assert_eq!(t.locked("c", "5.6.7.8").await, None);
        assert_eq!(t.locked("other", "1.2.3.4").await, None);
    }

    #[test]
    fn keys_do_not_collide_across_the_boundary() {
        assert_ne!(key("ab", "c"), key("a", "bc"));
    }
}
