//! The identity service binary: settings from the environment, the webhook worker, then
//! serve until a signal.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run_with(
        identity::NAME,
        |s| s.server.identity_port,
        identity::openapi,
        identity::start_background,
    )
    .await
}
