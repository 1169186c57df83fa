//! The audit service binary: settings from the environment, the consumer and retention job,
//! then serve.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run_with(
        audit::NAME,
        |s| s.server.audit_port,
        audit::openapi,
        audit::start_background,
    )
    .await
}
