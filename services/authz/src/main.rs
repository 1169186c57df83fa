//! The authz service binary: settings from the environment, then serve.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run(authz::NAME, |s| s.server.authz_port, authz::openapi).await
}
