//! An in-process cache of m2m client credentials for `POST /oauth/token`, so a repeat
//! grant costs no database round trip.
//!
//! Staleness is bounded three ways (docs/DECISIONS.md):
//! - only clients that just authenticated with a current fast hash are cached, and an entry
//!   lives at most [`TTL`];
//! - a revoke forgets the entry on the revoking replica at once and announces the client id
//!   on NATS (`<prefix>authz.m2m_client_changed`); every replica's listener forgets it on
//!   receipt (milliseconds);
//! - nothing is cached while that listener is not subscribed or NATS is disconnected (the
//!   cache is emptied then), so a missed announcement costs at most [`TTL`].
//!
//! A failed verification against a cached entry is never final: the caller re-reads the row,
//! so every refusal costs the same single database read whether or not the client exists
//! (M2M-01).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auth_host::Platform;
use futures::StreamExt;

use crate::repo::m2m::Credentials;

/// Longest life of a cache entry.
pub const TTL: Duration = Duration::from_secs(5);
/// How often `last_used_at` is refreshed for a client served from the cache.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Most clients held (further ones are simply not cached).
const MAX_ENTRIES: usize = 10_000;
/// NATS topic (under the bus prefix) carrying the client id of a changed client.
const TOPIC: &str = "authz.m2m_client_changed";

/// One cached client.
pub struct Entry {
    /// The credentials as read.
    pub creds: Credentials,
    fetched: Instant,
    touched: Mutex<Instant>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.creds.id)
            .field("fetched", &self.fetched)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// Whether `last_used_at` should be written now (at most once per [`TOUCH_EVERY`]);
    /// claims the write when it returns `true`.
    pub fn claim_touch(&self) -> bool {
        let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
        if touched.elapsed() < TOUCH_EVERY {
            return false;
        }
        *touched = Instant::now();
        true
    }
}

/// The cache (see the module docs).
#[derive(Debug, Default)]
pub struct ClientCache {
    map: Mutex<HashMap<String, Arc<Entry>>>,
    listening: AtomicBool,
    /// Bumped by every [`ClientCache::forget`]: a row read before a forget is not cached.
    epoch: AtomicU64,
}

impl ClientCache {
    /// An empty cache that caches nothing until [`ClientCache::listen`] subscribed.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn live(&self, platform: &Platform) -> bool {
        if self.listening.load(Ordering::Acquire) && platform.bus.is_connected() {
            return true;
        }
        self.clear();
        false
    }

    fn clear(&self) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The fresh entry for `client_id`, if any.
    pub fn get(&self, platform: &Platform, client_id: &str) -> Option<Arc<Entry>> {
        if !self.live(platform) {
            return None;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(client_id) {
            Some(e) if e.fetched.elapsed() < TTL => Some(e.clone()),
            Some(_) => {
                map.remove(client_id);
                None
            }
            None => None,
        }
    }

    /// The current invalidation epoch; take it before reading a row to [`ClientCache::put`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches `creds` (just read and verified) for `client_id`, unless any client was
    /// forgotten since `epoch` was taken (the row may predate a revoke).
    pub fn put(&self, platform: &Platform, client_id: &str, creds: Credentials, epoch: u64) {
        if !self.live(platform) || !creds.usable {
            return;
        }
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if self.epoch() != epoch {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| e.fetched.elapsed() < TTL);
            if map.len() >= MAX_ENTRIES {
                return;
            }
        }
        map.insert(
            client_id.to_owned(),
            Arc::new(Entry {
                creds,
                fetched: now,
                touched: Mutex::new(now),
            }),
        );
    }

    /// Drops `client_id` from this replica's cache.
    pub fn forget(&self, client_id: &str) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        map.remove(client_id);
    }

    /// Forgets `client_id` here and announces it to every replica (best effort: a lost
    /// announcement is bounded by [`TTL`]).
    pub async fn announce(&self, platform: &Platform, client_id: &str) {
        self.forget(client_id);
        let subject = platform.bus.config().subject(TOPIC);
        let client = platform.bus.client();
        let sent = async {
            client.publish(subject, client_id.to_owned().into()).await?;
            client.flush().await?;
            anyhow::Ok(())
        };
        if let Err(e) = sent.await {
            tracing::warn!(error = %e, "could not announce an m2m client change");
        }
    }

    /// Spawns the listener that forgets announced clients; it stops on `platform.shutdown`.
    pub fn listen(cache: &Arc<Self>, platform: &Platform) {
        let cache = Arc::clone(cache);
        let subject = platform.bus.config().subject(TOPIC);
        let client = platform.bus.client().clone();
        let shutdown = platform.shutdown.clone();
        tokio::spawn(async move {
            let mut sub = match client.subscribe(subject).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "m2m client cache disabled: cannot subscribe");
                    return;
                }
            };
            // the subscription is registered with the server once flushed
            if client.flush().await.is_err() {
                tracing::warn!("m2m client cache disabled: NATS flush failed");
                return;
            }
            cache.listening.store(true, Ordering::Release);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    msg = sub.next() => match msg {
                        Some(m) => cache.forget(&String::from_utf8_lossy(&m.payload)),
                        None => break,
                    },
                }
            }
            cache.listening.store(false, Ordering::Release);
            cache.clear();
        });
    }
}
