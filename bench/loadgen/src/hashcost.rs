//! `hashcost`: the CPU time of one bcrypt verification at `--cost` on this machine (the part of
//! a login W3 does not count against the service), from this thread's own CPU clock in
//! `/proc/thread-self/stat`, over `--n` verifications of each kind:
//! - `crate`: `bcrypt::verify`, what the service ran before it had its own bcrypt core;
//! - `single`: the identity pool's code for one job (`identity::hasher::compute_single`,
//!   with the pool's yield policy), as a pool thread runs it when it has one job in progress;
//! - `paired`: the pool's code for two jobs in progress on one thread, interleaved
//!   (`identity::hasher::compute_pair`), per hash: what the pool runs under W3's load (four
//!   logins in flight on two threads, two lanes each), so `cpu_ms_per_verify` (read by
//!   bench/run) is this one.

use std::time::Instant;

use identity::hasher::yield_policy::YieldPolicy;
use identity::hasher::{compute_pair, compute_single, format};
use serde_json::json;

use crate::common::Flags;

const PASSWORD: &str = "Bench-Passw0rd-42";

fn thread_ticks() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat")?;
    let after = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 1..))
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name
    let utime: u64 = fields.get(11).unwrap_or(&"0").parse()?;
    let stime: u64 = fields.get(12).unwrap_or(&"0").parse()?;
    Ok(utime + stime)
}

/// CPU and wall milliseconds per hash of `hashes` hashes done by `f`.
fn per_hash(
    hz: f64,
    hashes: u32,
    f: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<(f64, f64)> {
    let (t0, c0) = (Instant::now(), thread_ticks()?);
    f()?;
    let cpu_ms = (thread_ticks()? - c0) as f64 * 1000.0 / hz / f64::from(hashes);
    Ok((
        cpu_ms,
        t0.elapsed().as_secs_f64() * 1000.0 / f64::from(hashes),
    ))
}

/// Runs the subcommand.
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let cost: u32 = flags.num("cost", 12)?;
    let n: u32 = flags.num("n", 8)?;
    let hz: f64 = flags.num("hz", 100.0)?;
    let pairs = n.div_ceil(2).max(1);
    let out = tokio::task::spawn_blocking(move || -> anyhow::Result<[(f64, f64); 3]> {
        let hash = bcrypt::hash(PASSWORD, cost)?;
        let parts = format::parse(&hash)?;
        let pw = PASSWORD.as_bytes();
        let mut policy = YieldPolicy::for_current_thread();
        let krate = per_hash(hz, n, || {
            for _ in 0..n {
                anyhow::ensure!(bcrypt::verify(PASSWORD, &hash)?, "no match");
            }
            Ok(())
        })?;
        let single = per_hash(hz, n, || {
            for _ in 0..n {
                let raw = compute_single(cost, &parts.salt, pw, &mut policy);
                anyhow::ensure!(format::matches(&parts, &raw), "no match");
            }
            Ok(())
        })?;
        let paired = per_hash(hz, pairs * 2, || {
            for _ in 0..pairs {
                let (a, b) = compute_pair(cost, (&parts.salt, pw), (&parts.salt, pw), &mut policy);
                anyhow::ensure!(
                    format::matches(&parts, &a) && format::matches(&parts, &b),
                    "no match"
                );
            }
            Ok(())
        })?;
        Ok([krate, single, paired])
    })
    .await??;
    let [krate, single, paired] = out;
    println!(
        "{}",
        json!({
            "cost": cost,
            "cpu_ms_per_verify": paired.0,
            "wall_ms_per_verify": paired.1,
            "cpu_ms_per_verify_single": single.0,
            "cpu_ms_per_verify_paired": paired.0,
            "cpu_ms_per_verify_crate": krate.0,
        })
    );
    Ok(())
}
