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
//! - Successful grants never touch Redis: a replica reads a pair's counter only when it has
//!   itself counted a failure of that pair within [`WINDOW`] (a *suspect* pair; the note is
//!   kept in process memory under a 64-bit keyed hash of the pair). A pair locked through
//!   failures on other replicas is refused here after its first failure here, so a guesser
//!   spreading over R replicas gets at most R − 1 guesses more than [`THRESHOLD`] per window.
//! - A suspect pair read below the threshold is trusted for [`CLEAR_FOR`] without re-reading.
//! - At most [`MAX_SUSPECTS`] pairs are noted; when a failure finds no room, every pair is
//!   read from the counter store (the behaviour without notes) until [`WINDOW`] has passed.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
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
/// Most suspect pairs noted in process memory.
pub const MAX_SUSPECTS: usize = 10_000;

/// The counters (see the module docs).
#[derive(Debug)]
pub struct Throttle {
    cache: Cache,
    hasher: RandomState,
    notes: Mutex<Notes>,
}

/// A pair with a failure counted here.
#[derive(Debug, Clone, Copy)]
struct Suspect {
    /// The counter cannot outlive this (its window after the last failure counted here).
    until: Instant,
    /// When the counter was last read below the threshold.
    clear_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct Notes {
    suspects: HashMap<u64, Suspect>,
    /// Set when a failure found no room: read every pair's counter until then.
    saturated_until: Option<Instant>,
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
            hasher: RandomState::new(),
            notes: Mutex::new(Notes::default()),
        }
    }

    fn note_id(&self, client_id: &str, ip: &str) -> u64 {
        self.hasher.hash_one((client_id, ip))
    }

    fn notes(&self) -> std::sync::MutexGuard<'_, Notes> {
        self.notes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Some(retry_after)` when the pair is locked out.
    pub async fn locked(&self, client_id: &str, ip: &str) -> Option<Duration> {
        let now = Instant::now();
        let id = {
            let mut notes = self.notes();
            let saturated = notes.saturated_until.is_some_and(|t| now < t);
            if notes.suspects.is_empty() && !saturated {
                return None;
            }
            let id = self.note_id(client_id, ip);
            match notes.suspects.get(&id).copied() {
                Some(s) if now >= s.until => {
                    notes.suspects.remove(&id);
                    if !saturated {
                        return None;
                    }
                }
                Some(s) if s.clear_at.is_some_and(|at| now - at < CLEAR_FOR) => return None,
                Some(_) => {}
                None if !saturated => return None,
                None => {}
            }
            id
        };
        let count = match self.cache.get(&key(client_id, ip), Fallback::Memory).await {
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
        let mut notes = self.notes();
        if count == 0 {
            notes.suspects.remove(&id);
        } else if let Some(s) = notes.suspects.get_mut(&id) {
            s.clear_at = Some(Instant::now());
        }
        None
    }

    /// Counts one failure of the pair; returns the count (0 when it could not be counted).
    pub async fn failed(&self, client_id: &str, ip: &str) -> u64 {
        self.suspect(self.note_id(client_id, ip));
        match self
            .cache
            .incr_window(&key(client_id, ip), WINDOW, Fallback::Memory)
            .await
        {
            Ok(Some(c)) => c.count,
            Ok(None) => 0,
            Err(e) => {
                tracing::warn!(error = %e, "m2m throttle counter not incremented");
                0
            }
        }
    }

    /// Note the pair as suspect (before its failure is counted, so no request slips between).
    fn suspect(&self, id: u64) {
        let now = Instant::now();
        let mut notes = self.notes();
        if notes.suspects.len() >= MAX_SUSPECTS && !notes.suspects.contains_key(&id) {
            notes.suspects.retain(|_, s| now < s.until);
        }
        if notes.suspects.len() < MAX_SUSPECTS || notes.suspects.contains_key(&id) {
            notes.suspects.insert(
                id,
                Suspect {
                    until: now + WINDOW,
                    clear_at: None,
                },
            );
        } else {
            tracing::warn!("m2m throttle notes full; reading every pair's counter for a window");
            notes.saturated_until = Some(now + WINDOW);
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

    #[tokio::test]
    async fn a_pair_locked_elsewhere_is_refused_here_after_its_first_failure_here() {
        let cache = Cache::memory_only("t:");
        let (here, elsewhere) = (Throttle::new(cache.clone()), Throttle::new(cache));
        for _ in 0..THRESHOLD {
            elsewhere.failed("c", "1.2.3.4").await;
        }
        assert_eq!(elsewhere.locked("c", "1.2.3.4").await, Some(WINDOW));
        // no failure seen here: the success path reads nothing
        assert_eq!(here.locked("c", "1.2.3.4").await, None);
        assert!(here.failed("c", "1.2.3.4").await > THRESHOLD);
        assert_eq!(here.locked("c", "1.2.3.4").await, Some(WINDOW));
    }

    #[tokio::test]
    async fn a_cleared_counter_ends_the_lock() {
        let cache = Cache::memory_only("t:");
        let t = Throttle::new(cache.clone());
        for _ in 0..THRESHOLD {
            t.failed("c", "1.2.3.4").await;
        }
        assert_eq!(t.locked("c", "1.2.3.4").await, Some(WINDOW));
        cache
            .del(&key("c", "1.2.3.4"), Fallback::Memory)
            .await
            .expect("del");
        assert_eq!(t.locked("c", "1.2.3.4").await, None);
    }

    #[test]
    fn keys_do_not_collide_across_the_boundary() {
        assert_ne!(key("ab", "c"), key("a", "bc"));
    }
}
