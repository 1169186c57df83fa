//! The audit service binary: settings from the environment, then serve.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run(audit::NAME, |s| s.server.audit_port, audit::openapi).await
}
