//! The hashing threads step aside when something else is waiting for a CPU.
//!
//! Priorities do not do it: with autogroups or cgroups, nice 19 (and `SCHED_IDLE`) only ranks
//! threads inside our own group, while other processes (Redis, Postgres, nginx, clients) share
//! the CPU with our whole group at equal weight and were seen waiting behind the hashing
//! threads for 30+ ms. So between rounds, about every 100 µs of hashing, a hashing thread reads
//! the machine's count of runnable tasks (the 4th field of `/proc/loadavg`, "runnable/total",
//! which counts the reader too) with one `pread` on a descriptor it keeps open (~0.4 µs). If
//! more tasks are runnable than this process has CPUs, someone is waiting: the thread naps
//! (timer slack set to 1 µs so a nap is not stretched) and looks again.
//!
//! Bound: naps grow fourfold from [`FIRST_NAP`] (50, 200, 800 µs) and after [`MAX_NAPS`] of
//! them in a row (~1 ms) the thread hashes one more chunk whatever the count says, so hashing
//! slows down on a machine that never quiets down but never stops. Growing naps rather than 20
//! naps of 50 µs: on this VM a nap costs ~19 µs of the napping thread's own CPU (timer, two
//! context switches), so 20 short naps per 100 µs chunk would multiply the CPU per hash on a
//! busy machine; three cost at most ~60 µs per chunk, a short burst of other work (most
//! requests) still gets the CPU back after 50 µs, and a long one is left alone longer. Where `/proc/loadavg` cannot be read (not Linux) the policy
//! never yields.

use std::fs::File;
use std::time::Duration;

/// A hashing thread's first nap when something is waiting for a CPU; each next one is 4x.
pub const FIRST_NAP: Duration = Duration::from_micros(50);

/// Naps in a row after which one more chunk is hashed regardless (50+200+800 µs).
pub const MAX_NAPS: u32 = 3;

/// The timer slack the hashing threads ask for (the default 50 µs would double a first nap).
const TIMER_SLACK_NS: u32 = 1_000;

/// The number of runnable scheduling entities in a `/proc/loadavg` text (its 4th field,
/// "runnable/total"), or `None` when the text is not in that shape.
#[must_use]
pub fn runnable(loadavg: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(loadavg).ok()?;
    let field = text.split_ascii_whitespace().nth(3)?;
    let (running, _total) = field.split_once('/')?;
    running.parse().ok()
}

/// Whether a hashing thread should step aside: more tasks runnable (itself included) than
/// the CPUs this process may use means at least one of them is waiting.
#[must_use]
pub fn should_yield(runnable: u32, cpus: usize) -> bool {
    usize::try_from(runnable).is_ok_and(|r| r > cpus)
}

/// One hashing thread's policy: its open `/proc/loadavg` and the CPU count.
#[derive(Debug)]
pub struct YieldPolicy {
    loadavg: Option<File>,
    cpus: usize,
}

impl YieldPolicy {
    /// The policy for the calling thread: opens `/proc/loadavg` (never yields without it) and
    /// sets the thread's timer slack to 1 µs.
    #[must_use]
    pub fn for_current_thread() -> Self {
        set_timer_slack();
        Self {
            loadavg: File::open("/proc/loadavg").ok(),
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }

    /// [`Self::for_current_thread`] but comparing with `cpus` CPUs (benchmarks: with more CPUs
    /// than tasks it never naps, so what it costs is the checks alone).
    #[must_use]
    pub fn with_cpus(cpus: usize) -> Self {
        Self {
            cpus,
            ..Self::for_current_thread()
        }
    }

    /// A policy that never yields (benchmarks of the bare computation).
    #[must_use]
    pub fn never() -> Self {
        Self {
            loadavg: None,
            cpus: 1,
        }
    }

    /// The runnable count now, if it can be read.
    fn read(&self) -> Option<u32> {
        let file = self.loadavg.as_ref()?;
        let mut buf = [0u8; 128];
        let n = read_at(file, &mut buf)?;
        runnable(buf.get(..n)?)
    }

    /// Called between rounds: returns at once when nothing waits, else naps (growing) until
    /// nothing waits or [`MAX_NAPS`] naps have passed.
    pub fn pause(&mut self) {
        let mut nap = FIRST_NAP;
        for _ in 0..MAX_NAPS {
            match self.read() {
                Some(r) if should_yield(r, self.cpus) => std::thread::sleep(nap),
                _ => return,
            }
            nap = nap.saturating_mul(4);
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8]) -> Option<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, 0).ok()
}

#[cfg(not(unix))]
fn read_at(_file: &File, _buf: &mut [u8]) -> Option<usize> {
    None
}

/// Sets the calling thread's timer slack (Linux only; a refusal only makes naps longer).
fn set_timer_slack() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS.into()) {
        tracing::debug!(error = %e, "could not set the hashing thread's timer slack");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = TIMER_SLACK_NS;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_runnable_count() {
        assert_eq!(runnable(b"0.74 1.83 2.16 1/191 811\n"), Some(1));
        assert_eq!(runnable(b"12.00 8.50 4.25 37/1204 99999"), Some(37));
        assert_eq!(runnable(b"0.74 1.83 2.16"), None);
        assert_eq!(runnable(b"0.74 1.83 2.16 x/191 811"), None);
        assert_eq!(runnable(b"0.74 1.83 2.16 191 811"), None);
        assert_eq!(runnable(&[0xff, 0xfe]), None);
    }

    #[test]
    fn yields_only_when_more_are_runnable_than_cpus() {
        assert!(!should_yield(1, 2));
        assert!(!should_yield(2, 2));
        assert!(should_yield(3, 2));
        assert!(should_yield(2, 1));
    }

    #[test]
    fn the_live_policy_reads_loadavg_and_returns() {
        let mut policy = YieldPolicy::for_current_thread();
        if cfg!(target_os = "linux") {
            // this test's own thread is runnable
            assert!(policy.read().is_some_and(|r| r >= 1));
        }
        policy.pause();
        YieldPolicy::never().pause();
    }
}
