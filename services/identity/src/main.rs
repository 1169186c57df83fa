//! The identity service binary: settings from the environment, then serve.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run(
        identity::NAME,
        |s| s.server.identity_port,
        identity::openapi,
    )
    .await
}
