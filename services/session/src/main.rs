//! The session service binary: settings from the environment, the platform, the cleanup
//! scheduler, then serve until a signal.

use anyhow::Context as _;
use auth_host::{Application, Platform, api_endpoint};
use auth_settings::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env().context("invalid configuration")?;
    auth_telemetry::init(&settings.server.log_level, settings.server.is_production());
    let port = settings.server.session_port;
    let platform = Platform::start(settings, session::NAME).await?;
    let endpoint = api_endpoint(&platform, session::NAME, session::openapi());
    let app = Application::bind(platform.clone(), port, endpoint).await?;
    let _jobs = session::start_background(&platform);
    tracing::info!(service = session::NAME, port = app.port(), "listening");
    app.run_until_stopped().await
}
