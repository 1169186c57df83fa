//! The session service binary: settings from the environment, the cleanup scheduler, then
//! serve until a signal.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run_with(
        session::NAME,
        |s| s.server.session_port,
        session::openapi,
        session::start_background,
    )
    .await
}
