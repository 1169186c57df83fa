//! `loadgen`: the parts of the benchmark suite (`bench/run`) that wrk cannot express, driving a
//! running platform through its public API only (the ingress base URL, `.../api/v1`).
//!
//! Subcommands (flags are `--name value`; every one prints a single JSON line on stdout):
//! - `seed`: an app, N users (admin bulk import of one bcrypt-12 hash), their tokens and an m2m
//!   client, written as files into `--out` for the wrk scripts and the other subcommands;
//! - `login` (W3): closed-loop logins that drain at the end (exact CPU per login);
//! - `refresh` (W4): closed-loop refresh rotation on independent chains;
//! - `revoke` (W5): logout-all through the ingress, then the delay until another process
//!   (identity's `/auth/me`, on its own port) refuses the old access token;
//! - `mixed`: open-loop `/auth/me`, refresh and login at fixed arrival rates, latencies counted
//!   from each request's scheduled start (no coordinated omission);
//! - `hashcost`: the CPU time of one bcrypt verification here (W3's allowance).
//!
//! Layout: `common.rs` (flags, HTTP client, simulated client addresses, latency statistics),
//! `seed.rs`, `logins.rs`, `refresh.rs`, `revoke.rs`, `mixed.rs`, `hashcost.rs`.

mod common;
mod hashcost;
mod logins;
mod mixed;
mod refresh;
mod revoke;
mod seed;

use common::Flags;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let flags = Flags::parse(args)?;
    match command.as_str() {
        "seed" => seed::run(&flags).await,
        "refresh" => refresh::run(&flags).await,
        "revoke" => revoke::run(&flags).await,
        "mixed" => mixed::run(&flags).await,
        "login" => logins::run(&flags).await,
        "hashcost" => hashcost::run(&flags).await,
        other => anyhow::bail!(
            "unknown subcommand {other:?}: seed | login | refresh | revoke | mixed | hashcost"
        ),
    }
}
