//! `hashcost`: the CPU time of one bcrypt verification at `--cost` on this machine (the part of
//! a login W3 does not count against the service), from this thread's own CPU clock in
//! `/proc/thread-self/stat`, over `--n` verifications.

use std::time::Instant;

use serde_json::json;

use crate::common::Flags;

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

/// Runs the subcommand.
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let cost: u32 = flags.num("cost", 12)?;
    let n: u32 = flags.num("n", 8)?;
    let hz: f64 = flags.num("hz", 100.0)?;
    let out = tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, f64)> {
        let hash = bcrypt::hash("Bench-Passw0rd-42", cost)?;
        let (t0, c0) = (Instant::now(), thread_ticks()?);
        for _ in 0..n {
            anyhow::ensure!(bcrypt::verify("Bench-Passw0rd-42", &hash)?, "no match");
        }
        let cpu_ms = (thread_ticks()? - c0) as f64 * 1000.0 / hz / f64::from(n);
        Ok((cpu_ms, t0.elapsed().as_secs_f64() * 1000.0 / f64::from(n)))
    })
    .await??;
    println!(
        "{}",
        json!({"cost": cost, "cpu_ms_per_verify": out.0, "wall_ms_per_verify": out.1})
    );
    Ok(())
}
