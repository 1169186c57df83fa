//! The authz service binary: settings from the environment, then serve.
//!
//! The global allocator is mimalloc: the token endpoint is allocation-heavy (HTTP, JSON, JWT)
//! and glibc malloc was ~15% of its CPU under load (bench/oauth_token.sh, perf). It is built
//! with transparent huge pages off (the `no_thp` feature): with them, its arenas were backed
//! by 2 MiB pages and authz peaked at 76-92 MB under W8 instead of 37 MB, for the same
//! throughput (docs/BENCHMARKS.md, W7).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    auth_host::run(authz::NAME, |s| s.server.authz_port, authz::openapi).await
}
