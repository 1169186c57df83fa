//! The authz service binary: settings from the environment, then serve.
//!
//! The global allocator is mimalloc: the token endpoint is allocation-heavy (HTTP, JSON, JWT)
//! and glibc malloc was ~15% of its CPU under load (bench/oauth_token.sh, perf).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run(authz::NAME, |s| s.server.authz_port, authz::openapi).await
}
