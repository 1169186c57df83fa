//! [`Platform`]: the connections and shared machinery every service starts with.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use auth_bus::{Bus, BusConfig, OutboxRelay, TokenVersionMirror};
use auth_cache::{Cache, CacheConfig};
use auth_db::{DbConfig, PgPool};
use auth_edge::{EdgeConfig, Metrics};
use auth_settings::Settings;
use auth_tokens::{SignerConfig, SystemClock, TokenSigner};
use jwt_verify::{Verifier, VerifierConfig};
use tokio_util::sync::CancellationToken;

use crate::mirror::RedisTokenVersionMirror;
use crate::revocation::{PlatformRevocation, platform_revocation};

/// How long a service waits for Postgres to apply migrations at start before giving up.
const MIGRATE_PATIENCE: Duration = Duration::from_secs(60);

/// Everything a service needs besides its own routes. Cheap to clone.
#[derive(Clone)]
pub struct Platform {
    /// The validated settings.
    pub settings: Arc<Settings>,
    /// The Postgres pool (migrated).
    pub db: PgPool,
    /// Redis with its in-process fallback.
    pub cache: Cache,
    /// NATS and JetStream (connects in the background).
    pub bus: Bus,
    /// Access-token verification, with revocation through NATS, then Postgres.
    pub verifier: Verifier,
    /// Signs access, refresh, service and purpose tokens (issuance, contract §3).
    pub signer: TokenSigner,
    /// The revocation source behind `verifier` (for `/ready`).
    pub revocation: Arc<PlatformRevocation>,
    /// The Prometheus registry of this process.
    pub metrics: Metrics,
    /// Cancelled when the process shuts down; background tasks stop on it.
    pub shutdown: CancellationToken,
}

impl Platform {
    /// Connects to Postgres (and migrates), Redis and NATS, builds the verifier and starts
    /// the outbox relay. Redis and NATS being down does not stop the start: the platform
    /// degrades as ARCHITECTURE §4-5 say and recovers when they return.
    pub async fn start(settings: Settings, client_name: &str) -> anyhow::Result<Self> {
        let shutdown = CancellationToken::new();
        let db = auth_db::connect(&db_config(&settings, client_name))
            .await
            .context("postgres settings")?;
        migrate_when_reachable(&db).await?;

        let cache = Cache::connect(cache_config(&settings))
            .await
            .context("REDIS_URL")?;
        let mut bus_config =
            BusConfig::new(settings.nats.url.expose(), settings.nats.prefix.clone());
        bus_config.client_name = client_name.to_owned();
        bus_config.access_token_ttl = settings.jwt.access_expiry;
        bus_config.audit_max_bytes = settings.nats.audit_max_bytes;
        let bus = Bus::connect(bus_config).await.context("NATS_URL")?;

        let revocation = platform_revocation(
            db.clone(),
            bus.clone(),
            settings.nats.revocation_max_staleness,
            shutdown.clone(),
        );
        let verifier = Verifier::new(verifier_config(&settings), revocation.clone())
            .context("JWT_ACCESS_SECRET")?;
        let signer = TokenSigner::new(signer_config(&settings), Arc::new(SystemClock))
            .context("JWT_ACCESS_SECRET")?;

        let mirror: Arc<dyn TokenVersionMirror> =
            Arc::new(RedisTokenVersionMirror::new(cache.clone()));
        OutboxRelay::new(db.clone(), bus.clone())
            .with_mirror(mirror)
            .start(shutdown.clone());

        Ok(Self {
            settings: Arc::new(settings),
            db,
            cache,
            bus,
            verifier,
            signer,
            revocation,
            metrics: Metrics::new(),
            shutdown,
        })
    }

    /// The edge configuration from the settings.
    pub fn edge_config(&self) -> EdgeConfig {
        let s = &self.settings;
        EdgeConfig {
            cors_origins: s.http.cors_origins.clone(),
            production: s.server.is_production(),
            rate_limit_requests: u64::from(s.rate_limit.requests),
            rate_limit_window: s.rate_limit.window,
            trusted_proxies: s.http.trusted_proxies.clone(),
            ..EdgeConfig::default()
        }
    }
}

async fn migrate_when_reachable(db: &PgPool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + MIGRATE_PATIENCE;
    loop {
        match auth_db::migrate(db).await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() < deadline && !auth_db::ping(db).await => {
                tracing::warn!(error = %e, "postgres not reachable yet; retrying migrations");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).context("applying migrations"),
        }
    }
}

fn db_config(s: &Settings, client_name: &str) -> DbConfig {
    let d = &s.database;
    DbConfig {
        url: Some(d.url.expose().to_owned()),
        max_connections: d.max_open_conns,
        min_connections: d.max_idle_conns.min(d.max_open_conns),
        max_lifetime: (!d.conn_max_lifetime.is_zero()).then_some(d.conn_max_lifetime),
        application_name: Some(client_name.to_owned()),
        ..DbConfig::default()
    }
}

fn cache_config(s: &Settings) -> CacheConfig {
    CacheConfig {
        redis_url: s.redis.enabled().then(|| s.redis.url.expose().to_owned()),
        key_prefix: s.redis.key_prefix.clone(),
        ..CacheConfig::default()
    }
}

fn signer_config(s: &Settings) -> SignerConfig {
    let j = &s.jwt;
    SignerConfig {
        access_secret: j.access_secret.expose().as_bytes().to_vec(),
        refresh_secret: j.refresh_secret.expose().as_bytes().to_vec(),
        issuer: j.issuer.clone(),
        audience: j.audience.clone(),
        access_ttl: j.access_expiry,
        refresh_ttl: j.refresh_expiry,
        remember_me_ttl: j.remember_me_expiry,
    }
}

fn verifier_config(s: &Settings) -> VerifierConfig {
    let j = &s.jwt;
    let mut config = VerifierConfig::new(
        j.access_secret.expose().as_bytes(),
        j.issuer.clone(),
        j.primary_audience(),
    );
    if let Some(previous) = &j.access_secret_previous {
        config = config.with_previous_secret(previous.expose().as_bytes());
    }
    let previous_refresh = j
        .refresh_secret_previous
        .as_ref()
        .map(|p| p.expose().as_bytes().to_vec());
    config.with_refresh_secrets(j.refresh_secret.expose().as_bytes(), previous_refresh)
}
