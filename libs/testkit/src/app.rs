//! A service (or the all-in-one API) running in-process on 127.0.0.1:0 against the test's
//! own database and prefixes: faster than a child process, and the test can reach the
//! [`Platform`] (database pool, bus, signer) directly.

use std::time::Duration;

use anyhow::Context as _;
use auth_host::{Application, Platform, api_endpoint};
use auth_settings::Settings;
use poem_openapi::{OpenApi, OpenApiService};
use tokio::task::JoinHandle;

use crate::TestEnv;

/// A running in-process application. Stops when dropped.
pub struct TestApp {
    /// The test's database and prefixes.
    pub env: TestEnv,
    /// The platform the application runs on.
    pub platform: Platform,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    server: JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    /// Starts `api` as `service` with the test environment plus `overrides`
    /// (e.g. `[("BCRYPT_COST", "10")]`).
    pub async fn start<T: OpenApi + 'static>(
        service: &str,
        api: OpenApiService<T, ()>,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let env = TestEnv::new().await;
        let mut vars = env.vars();
        vars.extend(
            overrides
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = Settings::from_vars(vars).context("test settings")?;
        let platform = Platform::start(settings, service).await?;
        wait_for_revocation_feed(&platform).await;
        let endpoint = api_endpoint(&platform, service, api);
        let app = Application::bind(platform.clone(), 0, endpoint).await?;
        let base_url = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped());
        Ok(Self {
            env,
            platform,
            base_url,
            server,
        })
    }

    /// `base_url` + `API_PREFIX` + `path`.
    pub fn api(&self, path: &str) -> String {
        format!("{}{}{path}", self.base_url, crate::process::TEST_API_PREFIX)
    }
}

/// Waits (bounded) until the NATS token-version watcher runs, so a test's first requests
/// are answered by the watcher as in steady state, not by the Postgres fallback of the first
/// moments (which, e.g., refuses tokens of users that have no row). Returns at once when
/// NATS stays unreachable for 2 s (tests of a NATS outage).
pub async fn wait_for_revocation_feed(platform: &Platform) {
    if !platform.bus.wait_connected(Duration::from_secs(2)).await {
        return;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !platform.revocation.primary.is_healthy() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.platform.shutdown.cancel();
        self.server.abort();
    }
}
