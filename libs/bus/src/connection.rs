//! The NATS connection and the JetStream topology (audit stream, two KV buckets).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use async_nats::{Client, ConnectOptions, ServerAddr};
use tokio::sync::OnceCell;

use crate::config::{BusConfig, REVOCATION_LEEWAY};
use crate::error::{BusError, Result};

/// Handles on the key-value buckets, available once the topology exists.
#[derive(Clone)]
pub struct Topology {
    /// `<prefix>token_versions`: key = user id, value = decimal version.
    pub token_versions: kv::Store,
    /// `<prefix>revoked_jti`: key = jti, value = unused.
    pub revoked_jti: kv::Store,
}

/// A cheap-to-clone handle on the NATS connection and its JetStream context.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: BusConfig,
    client: Client,
    js: jetstream::Context,
    topology: OnceCell<Topology>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("prefix", &self.inner.cfg.prefix)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// Starts connecting in the background and returns at once: a NATS outage never
    /// stops the service from starting. The client reconnects forever with back-off.
    /// Fails only on an invalid configuration.
    pub async fn connect(cfg: BusConfig) -> Result<Self> {
        cfg.validate()?;
        let addrs = cfg
            .url
            .split(',')
            .map(|s| s.trim().parse::<ServerAddr>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| BusError::Config(format!("NATS url: {e}")))?;
        let cap = cfg.max_reconnect_delay;
        let client = ConnectOptions::new()
            .name(&cfg.client_name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(cfg.request_timeout)
            .request_timeout(Some(cfg.request_timeout))
            .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, cap))
            .connect(addrs)
            .await
            .map_err(|e| BusError::nats("connect", e))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(cfg.request_timeout)
            .build(client.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                client,
                js,
                topology: OnceCell::new(),
            }),
        })
    }

    /// Whether the connection is up right now (for `/ready`).
    pub fn is_connected(&self) -> bool {
        self.inner.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Waits until connected or `timeout` passes; returns whether connected.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.is_connected() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The configuration this bus was built with.
    pub fn config(&self) -> &BusConfig {
        &self.inner.cfg
    }

    /// The core NATS client (for plain subscriptions).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The JetStream context (for consumers and publishing).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.inner.js
    }

    /// Creates or updates the audit stream and both buckets. Idempotent; several
    /// processes may run it at once. Fails fast with [`BusError::NotConnected`].
    pub async fn ensure_topology(&self) -> Result<Topology> {
        if !self.is_connected() {
            return Err(BusError::NotConnected);
        }
        let cfg = &self.inner.cfg;
        let js = &self.inner.js;
        js.create_or_update_stream(audit_stream_config(cfg))
            .await
            .map_err(|e| BusError::nats("create audit stream", e))?;
        let token_versions = js
            .create_or_update_key_value(kv::Config {
                bucket: cfg.token_versions_bucket(),
                description: "user id -> token version (forward only)".to_owned(),
                history: 1,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::nats("create token_versions bucket", e))?;
        let revoked_jti = js
            .create_or_update_key_value(kv::Config {
                bucket: cfg.revoked_jti_bucket(),
                description: "revoked access-token ids".to_owned(),
                history: 1,
                max_age: cfg.access_token_ttl + REVOCATION_LEEWAY,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::nats("create revoked_jti bucket", e))?;
        let topology = Topology {
            token_versions,
            revoked_jti,
        };
        // A concurrent caller may have set it first; both values are equivalent.
        let _ = self.inner.topology.set(topology.clone());
        Ok(topology)
    }

    /// The topology, created on first use and cached afterwards.
    pub async fn topology(&self) -> Result<&Topology> {
        self.inner
            .topology
            .get_or_try_init(|| self.ensure_topology())
            .await
    }
}

/// The audit stream: file storage, `DiscardNew` so a full stream refuses publishes
/// (the outbox keeps the rows) instead of dropping history (AUD-06).
pub fn audit_stream_config(cfg: &BusConfig) -> stream::Config {
    stream::Config {
        name: cfg.audit_stream(),
        description: Some("audit events from the outbox relays".to_owned()),
        subjects: vec![cfg.audit_subjects()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::New,
        duplicate_window: cfg.duplicate_window,
        max_age: cfg.audit_max_age,
        max_bytes: cfg.audit_max_bytes,
        num_replicas: 1,
        ..Default::default()
    }
}

/// Exponential back-off from 50 ms, capped.
fn reconnect_delay(attempts: usize, cap: Duration) -> Duration {
    let exp = u32::try_from(attempts.min(16)).unwrap_or(16);
    Duration::from_millis(50)
        .saturating_mul(2u32.saturating_pow(exp))
        .min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delay_grows_and_is_capped() {
        let cap = Duration::from_secs(2);
        assert_eq!(reconnect_delay(0, cap), Duration::from_millis(50));
        assert_eq!(reconnect_delay(2, cap), Duration::from_millis(200));
        assert_eq!(reconnect_delay(1000, cap), cap);
    }

    #[test]
    fn audit_stream_never_drops_old_messages() {
        let c = audit_stream_config(&BusConfig::new("nats://x", "p_"));
        assert_eq!(c.discard, stream::DiscardPolicy::New);
        assert_eq!(c.storage, stream::StorageType::File);
        assert_eq!(c.duplicate_window, Duration::from_secs(120));
    }
}
