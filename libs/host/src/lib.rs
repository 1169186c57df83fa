//! `auth-host`: what every service binary shares.
//!
//! A service's `main` loads [`auth_settings::Settings`], starts the [`Platform`] (Postgres
//! migrated, Redis with fallback, NATS, the verifier with its revocation feed, the outbox
//! relay), builds its endpoint with [`api_endpoint`] and serves it with [`Application`].
//! [`run`] does all of that for the thin binaries; [`run_with`] also starts a service's own
//! background tasks.
//!
//! # Layout
//! - `platform.rs`: [`Platform`] and the mapping from settings to each library's config.
//! - `revocation.rs`: NATS key-value watcher first, Postgres when it cannot answer.
//! - `backlog.rs`: whether revocations still wait in the outbox (then Postgres answers).
//! - `mirror.rs`: the Redis copy of token versions.
//! - `ops.rs`: `/health`, `/ready`, `/metrics`, `/docs`.
//! - `app.rs`: [`api_endpoint`] and [`Application`] (bind, port, graceful shutdown).

mod app;
mod backlog;
mod mirror;
mod ops;
mod platform;
pub mod revocation;

pub use app::{Application, SERVED_BY_HEADER, api_endpoint};
pub use mirror::RedisTokenVersionMirror;
pub use platform::Platform;

use anyhow::Context as _;
use auth_settings::Settings;
use poem_openapi::{OpenApi, OpenApiService};

/// Runs one service binary: settings from the environment (a bad value stops the start with
/// a message naming the variable), telemetry, the platform, the API on `port(settings)`.
pub async fn run<T, P, A>(service: &'static str, port: P, api: A) -> anyhow::Result<()>
where
    T: OpenApi + 'static,
    P: FnOnce(&Settings) -> u16,
    A: FnOnce() -> OpenApiService<T, ()>,
{
    run_with(service, port, api, |_| {}).await
}

/// [`run`], plus `background(&platform)` once the platform is up and before the API listens:
/// the place to spawn a service's own background tasks (e.g. the audit consumer), which must
/// stop on `platform.shutdown`.
pub async fn run_with<T, P, A, B>(
    service: &'static str,
    port: P,
    api: A,
    background: B,
) -> anyhow::Result<()>
where
    T: OpenApi + 'static,
    P: FnOnce(&Settings) -> u16,
    A: FnOnce() -> OpenApiService<T, ()>,
    B: FnOnce(&Platform),
{
    let settings = Settings::from_env().context("invalid configuration")?;
    let _log = auth_telemetry::init(&settings.server.log_level, settings.server.is_production());
    let port = port(&settings);
    let platform = Platform::start(settings, service).await?;
    background(&platform);
    let endpoint = api_endpoint(&platform, service, api());
    let app = Application::bind(platform, port, endpoint).await?;
    tracing::info!(service, port = app.port(), "listening");
    app.run_until_stopped().await
}
