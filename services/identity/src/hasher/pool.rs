//! The hashing threads: each takes one job from the shared bounded queue and, when another job
//! of the same cost is already queued, that one too, and computes the two interleaved
//! ([`super::eks::bcrypt_raw_pair`]: more hashes per CPU-second than two apart); otherwise the
//! one alone. Jobs are data (cost, salt, password, reply channel), so two can be fused.
//!
//! A job whose caller has gone (client disconnected) is skipped. A panic only loses the
//! answers of the jobs being computed (their callers see `HashError::Task`); the thread lives
//! on. Threads run at nice 19 and step aside for other runnable work
//! ([`super::yield_policy`]).

use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot};

use super::eks;
use super::yield_policy::YieldPolicy;

/// One bcrypt computation and where its 24 raw bytes go.
#[derive(Debug)]
pub(super) struct HashJob {
    pub(super) cost: u32,
    pub(super) salt: [u8; 16],
    pub(super) password: Vec<u8>,
    pub(super) reply: oneshot::Sender<[u8; 24]>,
}

/// What the queue carries.
pub(super) enum Job {
    /// A hash to compute.
    Hash(HashJob),
    /// Tests only: run a closure on a pool thread (priority, panic and saturation checks).
    #[cfg(test)]
    Probe(Box<dyn FnOnce() + Send + 'static>),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hash(j) => f.debug_tuple("Hash").field(&j.cost).finish(),
            #[cfg(test)]
            Self::Probe(_) => f.write_str("Probe"),
        }
    }
}

/// Starts a named OS thread that first lowers its own scheduling priority (see
/// [`lower_current_thread_priority`]) and then runs `f`.
pub fn spawn_hashing_thread<F>(name: String, f: F) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    std::thread::Builder::new().name(name).spawn(move || {
        lower_current_thread_priority();
        f();
    })
}

/// Lowers the calling thread to the lowest normal priority (nice 19 on Linux): a tokio
/// worker that wakes up with a request preempts it, while CPU nobody else wants still goes to
/// it. (`SCHED_IDLE` was measured too: its wake-ups were slower, /auth/me p99 about 4 ms.)
/// A refusal is logged and the thread keeps its priority.
fn lower_current_thread_priority() {
    if let Err(e) = thread_priority::ThreadPriority::Min.set_for_current() {
        tracing::warn!(error = ?e, "could not lower the hashing thread's priority");
    }
}

/// One hash as a pool thread computes it (pausing for other runnable work per `policy`).
pub fn compute_single(
    cost: u32,
    salt: &[u8; 16],
    password: &[u8],
    policy: &mut YieldPolicy,
) -> [u8; 24] {
    eks::bcrypt_raw_paced(cost, salt, password, &mut || policy.pause())
}

/// Two hashes of the same cost as a pool thread computes them: interleaved.
pub fn compute_pair(
    cost: u32,
    a: (&[u8; 16], &[u8]),
    b: (&[u8; 16], &[u8]),
    policy: &mut YieldPolicy,
) -> ([u8; 24], [u8; 24]) {
    eks::bcrypt_raw_pair_paced(cost, a, b, &mut || policy.pause())
}

/// The next job whose caller still waits for it (`held` first), or `None` when the queue is
/// closed (`blocking`) or empty (not `blocking`).
fn next_live(rx: &mut mpsc::Receiver<Job>, held: &mut Option<Job>, blocking: bool) -> Option<Job> {
    loop {
        let job = match held.take() {
            Some(j) => j,
            None if blocking => rx.blocking_recv()?,
            None => rx.try_recv().ok()?,
        };
        match job {
            // the caller gave up (client gone): skip the work
            Job::Hash(j) if j.reply.is_closed() => {}
            other => return Some(other),
        }
    }
}

/// A pool thread: takes jobs until every sender is gone.
pub(super) fn worker(jobs: &Mutex<mpsc::Receiver<Job>>) {
    let mut policy = YieldPolicy::for_current_thread();
    // a job taken as a partner but of another cost: it goes first next time
    let mut held: Option<Job> = None;
    loop {
        let (first, second) = {
            let mut rx = jobs.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(first) = next_live(&mut rx, &mut held, true) else {
                return;
            };
            let second = match &first {
                Job::Hash(_) => next_live(&mut rx, &mut held, false),
                #[cfg(test)]
                Job::Probe(_) => None,
            };
            (first, second)
        };
        match (first, second) {
            (Job::Hash(a), Some(Job::Hash(b))) if a.cost == b.cost => run_pair(a, b, &mut policy),
            (first, second) => {
                held = second;
                run_one(first, &mut policy);
            }
        }
    }
}

/// Runs one job, isolating a panic.
fn run_one(job: Job, policy: &mut YieldPolicy) {
    match job {
        Job::Hash(j) => {
            let out = std::panic::catch_unwind(AssertUnwindSafe(|| {
                compute_single(j.cost, &j.salt, &j.password, policy)
            }));
            match out {
                // a send error means the caller left meanwhile: nothing to do
                Ok(raw) => {
                    let _ = j.reply.send(raw);
                }
                Err(_) => tracing::error!("a hashing job panicked"),
            }
        }
        #[cfg(test)]
        Job::Probe(f) => {
            if std::panic::catch_unwind(AssertUnwindSafe(f)).is_err() {
                tracing::error!("a hashing job panicked");
            }
        }
    }
}

/// Runs two jobs of the same cost interleaved, isolating a panic.
fn run_pair(a: HashJob, b: HashJob, policy: &mut YieldPolicy) {
    let out = std::panic::catch_unwind(AssertUnwindSafe(|| {
        compute_pair(
            a.cost,
            (&a.salt, &a.password),
            (&b.salt, &b.password),
            policy,
        )
    }));
    match out {
        Ok((ra, rb)) => {
            let _ = a.reply.send(ra);
            let _ = b.reply.send(rb);
        }
        Err(_) => tracing::error!("a pair of hashing jobs panicked"),
    }
}
