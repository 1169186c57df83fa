//! The hashing threads: each takes one job from the shared bounded [`Queue`] and, when another
//! job of the same cost is already queued, that one too, and computes the two interleaved
//! ([`super::eks::bcrypt_raw_pair`]: more hashes per CPU-second than two apart); otherwise the
//! one alone. Jobs are data (cost, salt, password, reply channel), so two can be fused.
//!
//! A job whose caller has gone (client disconnected) is skipped. A panic only loses the
//! answers of the jobs being computed (their callers see `HashError::Task`); the thread lives
//! on. Threads run at nice 19 and step aside for other runnable work
//! ([`super::yield_policy`]).

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

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

/// The jobs waiting for a hashing thread. Room is a semaphore of one permit per thread
/// (callers wait for a permit at most the hasher's patience); a job carries its permit until
/// a thread takes it off the queue, so "one queued job per thread" holds as before.
pub(super) struct Queue {
    waiting: Mutex<Waiting>,
    ready: Condvar,
    room: Arc<Semaphore>,
}

struct Waiting {
    jobs: VecDeque<(Job, OwnedSemaphorePermit)>,
    closed: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("queued", &self.lock().jobs.len())
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// An empty queue with room for `places` jobs.
    pub(super) fn new(places: usize) -> Self {
        Self {
            waiting: Mutex::new(Waiting {
                jobs: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            room: Arc::new(Semaphore::new(places)),
        }
    }

    /// Queues `job` once there is room, waiting at most `patience`; `Err` gives the job back
    /// when the queue stayed full (or is closed).
    pub(super) async fn push(&self, job: Job, patience: Duration) -> Result<(), Job> {
        let permit = match tokio::time::timeout(patience, self.room.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(job),
        };
        self.lock().jobs.push_back((job, permit));
        self.ready.notify_one();
        Ok(())
    }

    /// Wakes every thread and lets them end once the queue is empty.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.room.close();
        self.ready.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until a job whose caller still waits is queued, and takes it together with a
    /// queued hash of the same cost if there is one; `None` once closed and empty.
    fn take(&self) -> Option<(Job, Option<HashJob>)> {
        let mut waiting = self.lock();
        loop {
            // callers that gave up (client gone): their work is skipped
            waiting.jobs.retain(|(job, _)| !abandoned(job));
            if let Some((first, _permit)) = waiting.jobs.pop_front() {
                let partner = match &first {
                    Job::Hash(a) => take_partner(&mut waiting.jobs, a.cost),
                    #[cfg(test)]
                    Job::Probe(_) => None,
                };
                return Some((first, partner));
            }
            if waiting.closed {
                return None;
            }
            waiting = self
                .ready
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Removes and returns the first queued hash of `cost`, if any.
fn take_partner(jobs: &mut VecDeque<(Job, OwnedSemaphorePermit)>, cost: u32) -> Option<HashJob> {
    let at = jobs
        .iter()
        .position(|(job, _)| matches!(job, Job::Hash(b) if b.cost == cost))?;
    // the permit is dropped here: the place in the queue is free again
    match jobs.remove(at)? {
        (Job::Hash(b), _permit) => Some(b),
        #[cfg(test)]
        (Job::Probe(_), _) => None,
    }
}

/// Whether the caller of `job` has stopped waiting for its answer.
fn abandoned(job: &Job) -> bool {
    match job {
        Job::Hash(j) => j.reply.is_closed(),
        #[cfg(test)]
        Job::Probe(_) => false,
    }
}

/// A pool thread: takes jobs (two of one cost together when queued) until the queue closes.
pub(super) fn worker(queue: &Queue) {
    let mut policy = YieldPolicy::for_current_thread();
    while let Some((first, partner)) = queue.take() {
        match (first, partner) {
            (Job::Hash(a), Some(b)) => run_pair(a, b, &mut policy),
            (first, _) => run_one(first, &mut policy),
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
