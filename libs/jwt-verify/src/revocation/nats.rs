//! NATS JetStream key-value watcher (feature `nats`): a local copy of the token versions and
//! revoked access-token ids, kept current by watching two buckets.
//!
//! - `<prefix>token_versions`: key = user id, value = decimal version (monotonic here: a
//!   smaller value or a delete never lowers what was seen; an unreadable value revokes all
//!   of that user's tokens until it is fixed).
//! - `<prefix>revoked_jti`: key = access-token `jti`, any value; entries expire with the
//!   bucket's `max_age` (mirrored locally).
//!
//! Lookups are answered from memory. The feed counts as healthy while the client is
//! connected and both watches run; when it has been unhealthy for longer than
//! `max_staleness`, lookups fail with [`RevocationUnavailable`] (fail closed). The client
//! reconnects by itself and the ordered consumers resume from the last revision.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use futures::StreamExt as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{BoxFuture, RevocationSource, RevocationUnavailable, TokenRef};
use crate::clock::{Clock, SystemClock};

/// Bucket name (after the prefix) of the token versions.
pub const TOKEN_VERSIONS_BUCKET: &str = "token_versions";
/// Bucket name (after the prefix) of the revoked access-token ids.
pub const REVOKED_JTI_BUCKET: &str = "revoked_jti";

/// Failure to set up the buckets or start the watcher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsRevocationError {
    /// A bucket could not be opened or created.
    #[error("key-value bucket {bucket}: {message}")]
    Bucket {
        /// The full bucket name.
        bucket: String,
        /// What NATS answered.
        message: String,
    },
    /// The initial state was not loaded within `sync_timeout`.
    #[error("initial revocation state not loaded within {0:?}")]
    SyncTimeout(Duration),
}

/// Settings of [`NatsRevocation`].
#[derive(Clone, Debug)]
pub struct NatsRevocationConfig {
    /// Prefix of both bucket names (default empty; tests use a random one).
    pub prefix: String,
    /// How long the feed may be lost before lookups fail closed (default 30 s).
    pub max_staleness: Duration,
    /// How long [`NatsRevocation::start`] waits for the initial state (default 10 s).
    pub sync_timeout: Duration,
    /// How often the health of the feed is sampled (default 250 ms).
    pub health_interval: Duration,
    /// Time source for staleness and `jti` expiry.
    pub clock: Arc<dyn Clock>,
}

impl Default for NatsRevocationConfig {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            max_staleness: Duration::from_secs(30),
            sync_timeout: Duration::from_secs(10),
            health_interval: Duration::from_millis(250),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Creates the two buckets when missing (platform services call this at start).
/// `revoked_jti_max_age` should be at least the access-token lifetime.
pub async fn ensure_buckets(
    js: &jetstream::Context,
    prefix: &str,
    revoked_jti_max_age: Duration,
) -> Result<(kv::Store, kv::Store), NatsRevocationError> {
    let tv = ensure_bucket(
        js,
        format!("{prefix}{TOKEN_VERSIONS_BUCKET}"),
        Duration::ZERO,
    )
    .await?;
    let jti = ensure_bucket(
        js,
        format!("{prefix}{REVOKED_JTI_BUCKET}"),
        revoked_jti_max_age,
    )
    .await?;
    Ok((tv, jti))
}

async fn ensure_bucket(
    js: &jetstream::Context,
    bucket: String,
    max_age: Duration,
) -> Result<kv::Store, NatsRevocationError> {
    if let Ok(store) = js.get_key_value(bucket.clone()).await {
        return Ok(store);
    }
    let config = kv::Config {
        bucket: bucket.clone(),
        history: 1,
        max_age,
        ..Default::default()
    };
    match js.create_key_value(config).await {
        Ok(store) => Ok(store),
        // Another replica may have created it in between.
        Err(create_err) => {
            js.get_key_value(bucket.clone())
                .await
                .map_err(|_| NatsRevocationError::Bucket {
                    bucket,
                    message: create_err.to_string(),
                })
        }
    }
}

async fn open_bucket(
    js: &jetstream::Context,
    bucket: String,
) -> Result<kv::Store, NatsRevocationError> {
    js.get_key_value(bucket.clone())
        .await
        .map_err(|e| NatsRevocationError::Bucket {
            bucket,
            message: e.to_string(),
        })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Versions,
    Revoked,
}

struct Shared {
    client: async_nats::Client,
    clock: Arc<dyn Clock>,
    max_staleness_ms: i64,
    versions: RwLock<HashMap<String, u64>>,
    /// jti -> created (ms since epoch).
    revoked: RwLock<HashMap<String, i64>>,
    revoked_max_age_ms: i64,
    versions_up: AtomicBool,
    revoked_up: AtomicBool,
    last_healthy_ms: AtomicI64,
    versions_rev: watch::Sender<u64>,
    revoked_rev: watch::Sender<u64>,
}

impl Shared {
    fn healthy_now(&self) -> bool {
        self.versions_up.load(Ordering::SeqCst)
            && self.revoked_up.load(Ordering::SeqCst)
            && self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Samples health; Err when the feed has been lost for longer than allowed.
    fn gate(&self) -> Result<(), RevocationUnavailable> {
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

    fn apply(&self, which: Which, entry: &kv::Entry) {
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

    fn sweep_expired(&self) {
        if self.revoked_max_age_ms <= 0 {
            return;
        }
        let cutoff = self.clock.now_ms().saturating_sub(self.revoked_max_age_ms);
        if let Ok(mut m) = self.revoked.write() {
            m.retain(|_, created| *created >= cutoff);
        }
    }

    fn set_up(&self, which: Which, up: bool) {
        let flag = if which == Which::Versions {
            &self.versions_up
        } else {
            &self.revoked_up
        };
        flag.store(up, Ordering::SeqCst);
    }

    fn version_of(&self, user_id: &str) -> Result<u64, RevocationUnavailable> {
        self.gate()?;
        let m = self
            .versions
            .read()
            .map_err(|_| RevocationUnavailable("version map poisoned".into()))?;
        Ok(m.get(user_id).copied().unwrap_or(0))
    }

    fn revoked(&self, t: TokenRef<'_>) -> Result<bool, RevocationUnavailable> {
        Ok(self.jti_revoked(t.jti)? || t.token_version < self.version_of(t.user_id)?)
    }

    fn jti_revoked(&self, jti: &str) -> Result<bool, RevocationUnavailable> {
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

struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Revocation source backed by a local map that two JetStream key-value watches keep
/// current. Cheap to clone; background tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct NatsRevocation {
    shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

impl std::fmt::Debug for NatsRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsRevocation")
            .field("healthy", &self.shared.healthy_now())
            .field("last_healthy_ms", &self.last_healthy_ms())
            .finish_non_exhaustive()
    }
}

impl NatsRevocation {
    /// Opens the two buckets (they must exist, see [`ensure_buckets`]), loads their current
    /// state, and keeps watching. Must run inside a tokio runtime.
    pub async fn start(
        client: async_nats::Client,
        config: NatsRevocationConfig,
    ) -> Result<Self, NatsRevocationError> {
        let js = jetstream::new(client.clone());
        let tv_store =
            open_bucket(&js, format!("{}{TOKEN_VERSIONS_BUCKET}", config.prefix)).await?;
        let jti_name = format!("{}{REVOKED_JTI_BUCKET}", config.prefix);
        let jti_store = open_bucket(&js, jti_name.clone()).await?;
        let jti_max_age = jti_store
            .status()
            .await
            .map_err(|e| NatsRevocationError::Bucket {
                bucket: jti_name,
                message: e.to_string(),
            })?
            .max_age();
        let shared = Arc::new(Shared {
            client,
            clock: config.clock.clone(),
            max_staleness_ms: i64::try_from(config.max_staleness.as_millis()).unwrap_or(i64::MAX),
            versions: RwLock::new(HashMap::new()),
            revoked: RwLock::new(HashMap::new()),
            revoked_max_age_ms: i64::try_from(jti_max_age.as_millis()).unwrap_or(i64::MAX),
            versions_up: AtomicBool::new(false),
            revoked_up: AtomicBool::new(false),
            last_healthy_ms: AtomicI64::new(i64::MIN),
            versions_rev: watch::Sender::new(0),
            revoked_rev: watch::Sender::new(0),
        });
        let (tv_ready_tx, tv_ready) = tokio::sync::oneshot::channel();
        let (jti_ready_tx, jti_ready) = tokio::sync::oneshot::channel();
        let tasks = vec![
            tokio::spawn(watch_loop(
                tv_store,
                shared.clone(),
                Which::Versions,
                tv_ready_tx,
            )),
            tokio::spawn(watch_loop(
                jti_store,
                shared.clone(),
                Which::Revoked,
                jti_ready_tx,
            )),
            tokio::spawn(monitor(shared.clone(), config.health_interval)),
        ];
        let this = Self {
            shared,
            _tasks: Arc::new(Tasks(tasks)),
        };
        let both = async { tv_ready.await.is_ok() && jti_ready.await.is_ok() };
        match tokio::time::timeout(config.sync_timeout, both).await {
            Ok(true) => {
                this.shared.gate().ok();
                Ok(this)
            }
            _ => Err(NatsRevocationError::SyncTimeout(config.sync_timeout)),
        }
    }

    /// Whether the feed is healthy right now (connected, both watches running).
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.shared.healthy_now()
    }

    /// When the feed was last seen healthy (ms since the epoch, per the configured clock).
    #[must_use]
    pub fn last_healthy_ms(&self) -> i64 {
        self.shared.gate().ok();
        self.shared.last_healthy_ms.load(Ordering::SeqCst)
    }

    /// Waits until the token-version watch has applied `revision` (as returned by a `put`),
    /// for read-your-writes. False on timeout.
    pub async fn wait_token_versions(&self, revision: u64, timeout: Duration) -> bool {
        wait_rev(&self.shared.versions_rev, revision, timeout).await
    }

    /// Waits until the revoked-jti watch has applied `revision`. False on timeout.
    pub async fn wait_revoked_jti(&self, revision: u64, timeout: Duration) -> bool {
        wait_rev(&self.shared.revoked_rev, revision, timeout).await
    }
}

async fn wait_rev(tx: &watch::Sender<u64>, revision: u64, timeout: Duration) -> bool {
    let mut rx = tx.subscribe();
    matches!(
        tokio::time::timeout(timeout, rx.wait_for(|r| *r >= revision)).await,
        Ok(Ok(_))
    )
}

async fn monitor(shared: Arc<Shared>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        shared.gate().ok();
        shared.sweep_expired();
    }
}

async fn watch_loop(
    store: kv::Store,
    shared: Arc<Shared>,
    which: Which,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut last_rev: u64 = 0;
    let mut backoff = Duration::from_millis(100);
    loop {
        // The stream's last sequence before watching: reaching it means we are caught up.
        let target = match store.status().await {
            Ok(s) if s.values() == 0 => Some(0),
            Ok(s) => Some(s.info.state.last_sequence),
            Err(_) => None,
        };
        let watch = if last_rev == 0 {
            store.watch_with_history(">").await
        } else {
            store.watch_all_from_revision(last_rev + 1).await
        };
        let (Some(target), Ok(mut entries)) = (target, watch) else {
            shared.set_up(which, false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        };
        backoff = Duration::from_millis(100);
        shared.set_up(which, true);
        if target <= last_rev {
            signal(&mut ready);
        }
        while let Some(item) = entries.next().await {
            // Errors are transient: the ordered consumer recreates itself and resumes.
            let Ok(entry) = item else { continue };
            shared.apply(which, &entry);
            last_rev = last_rev.max(entry.revision);
            if entry.delta == 0 || last_rev >= target {
                signal(&mut ready);
            }
        }
        shared.set_up(which, false);
    }
}

fn signal(ready: &mut Option<tokio::sync::oneshot::Sender<()>>) {
    if let Some(tx) = ready.take() {
        tx.send(()).ok();
    }
}

impl RevocationSource for NatsRevocation {
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.shared.version_of(user_id)))
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.shared.jti_revoked(jti)))
    }

    fn is_revoked_now(&self, token: TokenRef<'_>) -> Option<Result<bool, RevocationUnavailable>> {
        Some(self.shared.revoked(token))
    }

    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.shared.revoked(token)))
    }
}
