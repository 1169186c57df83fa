//! The local maps and the health of the feed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use async_nats::jetstream::kv;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::revocation::{RevocationUnavailable, TokenRef};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    Versions,
    Revoked,
}

pub(super) struct Shared {
    pub(super) client: async_nats::Client,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) max_staleness_ms: i64,
    pub(super) versions: RwLock<HashMap<String, u64>>,
    /// jti -> created (ms since epoch).
    pub(super) revoked: RwLock<HashMap<String, i64>>,
    pub(super) revoked_max_age_ms: i64,
    pub(super) versions_up: AtomicBool,
    pub(super) revoked_up: AtomicBool,
    pub(super) last_healthy_ms: AtomicI64,
    pub(super) versions_rev: watch::Sender<u64>,
    pub(super) revoked_rev: watch::Sender<u64>,
    /// Whether the connection was up at the last look (to notice a reconnect).
    pub(super) connected: AtomicBool,
    /// Bumped on every lost connection: the watches start over from their last revision
    /// and count as up only once caught up with the bucket again.
    pub(super) resets: watch::Sender<u64>,
}

impl Shared {
    pub(super) fn new(
        client: async_nats::Client,
        clock: Arc<dyn Clock>,
        max_staleness: std::time::Duration,
        revoked_max_age: std::time::Duration,
    ) -> Self {
        Self {
            client,
            clock,
            max_staleness_ms: i64::try_from(max_staleness.as_millis()).unwrap_or(i64::MAX),
            versions: RwLock::new(HashMap::new()),
            revoked: RwLock::new(HashMap::new()),
            revoked_max_age_ms: i64::try_from(revoked_max_age.as_millis()).unwrap_or(i64::MAX),
            versions_up: AtomicBool::new(false),
            revoked_up: AtomicBool::new(false),
            last_healthy_ms: AtomicI64::new(i64::MIN),
            versions_rev: watch::Sender::new(0),
            revoked_rev: watch::Sender::new(0),
            connected: AtomicBool::new(true),
            resets: watch::Sender::new(0),
        }
    }

    pub(super) fn healthy_now(&self) -> bool {
        let connected = self.client.connection_state() == async_nats::connection::State::Connected;
        if !connected && self.connected.swap(false, Ordering::SeqCst) {
            // Entries written while we are away may never reach the old consumers (or only
            // late): distrust both maps until each watch has caught up again.
            self.versions_up.store(false, Ordering::SeqCst);
            self.revoked_up.store(false, Ordering::SeqCst);
            self.resets.send_modify(|n| *n += 1);
        } else if connected {
            self.connected.store(true, Ordering::SeqCst);
        }
        connected
            && self.versions_up.load(Ordering::SeqCst)
            && self.revoked_up.load(Ordering::SeqCst)
    }

    /// Samples health; Err when the feed has been lost for longer than allowed.
    pub(super) fn gate(&self) -> Result<(), RevocationUnavailable> {
        let now = self.clock.now_ms();
        if self.healthy_now() {
            self.last_healthy_ms.fetch_max(now, Ordering::SeqCst);
            return Ok(());
        }
        let since = now.saturating_sub(self.last_healthy_ms.load(Ordering::SeqCst));
        if since > self.max_staleness_ms {
            Err(RevocationUnavailable(format!(
                "NATS revocation feed lost for {since} ms"
            )))
        } else {
            Ok(())
        }
    }

    pub(super) fn apply(&self, which: Which, entry: &kv::Entry) {
        match which {
            Which::Versions => {
                if entry.operation != kv::Operation::Put {
                    return; // never lower a version
                }
                let parsed = std::str::from_utf8(&entry.value)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok());
                let version = parsed.unwrap_or(u64::MAX); // unreadable: fail closed for this user
                if let Ok(mut m) = self.versions.write() {
                    let slot = m.entry(entry.key.clone()).or_insert(0);
                    *slot = (*slot).max(version);
                }
            }
            Which::Revoked => {
                if let Ok(mut m) = self.revoked.write() {
                    if entry.operation == kv::Operation::Put {
                        let created =
                            i64::try_from(entry.created.unix_timestamp_nanos() / 1_000_000)
                                .unwrap_or(i64::MAX);
                        m.insert(entry.key.clone(), created);
                    } else {
                        m.remove(&entry.key);
                    }
                }
            }
        }
        let tx = if which == Which::Versions {
            &self.versions_rev
        } else {
            &self.revoked_rev
        };
        tx.send_if_modified(|r| {
            let changed = entry.revision > *r;
            *r = (*r).max(entry.revision);
            changed
        });
    }

    pub(super) fn sweep_expired(&self) {
        if self.revoked_max_age_ms <= 0 {
            return;
        }
        let cutoff = self.clock.now_ms().saturating_sub(self.revoked_max_age_ms);
        if let Ok(mut m) = self.revoked.write() {
            m.retain(|_, created| *created >= cutoff);
        }
    }

    pub(super) fn set_up(&self, which: Which, up: bool) {
        let flag = if which == Which::Versions {
            &self.versions_up
        } else {
            &self.revoked_up
        };
        flag.store(up, Ordering::SeqCst);
    }

    pub(super) fn version_of(&self, user_id: &str) -> Result<u64, RevocationUnavailable> {
        self.gate()?;
        let m = self
            .versions
            .read()
            .map_err(|_| RevocationUnavailable("version map poisoned".into()))?;
        Ok(m.get(user_id).copied().unwrap_or(0))
    }

    pub(super) fn revoked(&self, t: TokenRef<'_>) -> Result<bool, RevocationUnavailable> {
        for id in t.revocable_ids() {
            if self.jti_revoked(id)? {
                return Ok(true);
            }
        }
        Ok(t.token_version < self.version_of(t.user_id)?)
    }

    pub(super) fn jti_revoked(&self, jti: &str) -> Result<bool, RevocationUnavailable> {
        self.gate()?;
        let m = self
            .revoked
            .read()
            .map_err(|_| RevocationUnavailable("jti map poisoned".into()))?;
        let Some(created) = m.get(jti) else {
            return Ok(false);
        };
        let live = self.revoked_max_age_ms <= 0
            || self.clock.now_ms().saturating_sub(*created) <= self.revoked_max_age_ms;
        Ok(live)
    }
}
