//! The session service binary: settings from the environment, then serve.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run(session::NAME, |s| s.server.session_port, session::openapi).await
}
