//! The hashing threads. Each keeps up to two hashes in progress ([`eks::Lane`]s) and advances
//! them interleaved ([`eks::run_pair`]: ~2x the hashes per CPU-second of one at a time), or the
//! one alone. Between chunks of ~100 µs it starts a queued job in a free lane, so whenever more
//! jobs are in flight than threads, every thread hashes two at once, whatever their costs and
//! however far each has got. A thread that has one job leaves a queued job to an idle thread
//! (two CPUs beat one for latency while a CPU is free). Jobs are data (cost, salt, password,
//! reply channel).
//!
//! A job whose caller has gone (client disconnected) is skipped, in the queue or mid-way. A
//! panic only loses the answers of the jobs in progress (their callers see `HashError::Task`);
//! the thread lives on. Threads run at nice 19 and step aside for other runnable work
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
    /// Threads blocked in [`Queue::take`] with nothing to hash.
    idle: usize,
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
                idle: 0,
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

    /// Tests: nothing queued and no thread idle (every job so far is in a lane).
    #[cfg(test)]
    pub(super) fn all_taken(&self) -> bool {
        let waiting = self.lock();
        waiting.jobs.is_empty() && waiting.idle == 0
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until a job whose caller still waits is queued and takes it; `None` once
    /// closed and empty.
    fn take(&self) -> Option<Job> {
        let mut waiting = self.lock();
        loop {
            if let Some(job) = waiting.pop_live() {
                return Some(job);
            }
            if waiting.closed {
                return None;
            }
            waiting.idle += 1;
            waiting = self
                .ready
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
            waiting.idle -= 1;
        }
    }

    /// A queued job for a thread that already has one in progress, unless a thread is idle:
    /// that one was woken for it.
    fn take_second(&self) -> Option<Job> {
        let mut waiting = self.lock();
        if waiting.idle > 0 {
            return None;
        }
        waiting.pop_live()
    }
}

impl Waiting {
    /// The first queued job whose caller still waits (those that gave up are dropped); taking
    /// it frees its place in the queue.
    fn pop_live(&mut self) -> Option<Job> {
        while let Some((job, _permit)) = self.jobs.pop_front() {
            if !abandoned(&job) {
                return Some(job);
            }
        }
        None
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

/// A hash in progress on a pool thread and where its answer goes.
struct Running {
    lane: eks::Lane,
    reply: oneshot::Sender<[u8; 24]>,
}

/// A pool thread: keeps up to two lanes busy until the queue closes and its lanes are done.
pub(super) fn worker(queue: &Queue) {
    let mut policy = YieldPolicy::for_current_thread();
    let mut lanes: [Option<Running>; 2] = [None, None];
    loop {
        if lanes.iter().all(Option::is_none) {
            match queue.take() {
                Some(job) => start(job, &mut lanes),
                None => return,
            }
        }
        if lanes.iter().any(Option::is_none)
            && let Some(job) = queue.take_second()
        {
            start(job, &mut lanes);
        }
        advance(&mut lanes);
        policy.pause();
    }
}

/// Puts a hash job in a free lane; a test probe runs at once.
fn start(job: Job, lanes: &mut [Option<Running>; 2]) {
    match job {
        Job::Hash(j) => {
            let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
                eks::Lane::start(j.cost, &j.salt, &j.password)
            }));
            match (started, lanes.iter_mut().find(|l| l.is_none())) {
                (Ok(lane), Some(free)) => {
                    *free = Some(Running {
                        lane,
                        reply: j.reply,
                    });
                }
                // never both lanes busy here (callers check); the caller sees Task
                (Ok(_), None) => tracing::error!("a hashing job found no free lane"),
                (Err(_), _) => tracing::error!("a hashing job panicked"),
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

/// One chunk of work on the busy lanes (interleaved when both are), then answers the
/// finished ones and drops those whose caller left. A panic empties both lanes.
fn advance(lanes: &mut [Option<Running>; 2]) {
    let stepped = std::panic::catch_unwind(AssertUnwindSafe(|| match lanes {
        [Some(a), Some(b)] => eks::run_pair(&mut a.lane, &mut b.lane, eks::ITERATIONS_PER_PACE),
        [Some(one), None] | [None, Some(one)] => one.lane.run(eks::ITERATIONS_PER_PACE),
        [None, None] => {}
    }));
    if stepped.is_err() {
        tracing::error!("a hashing job panicked");
        *lanes = [None, None];
        return;
    }
    for slot in lanes.iter_mut() {
        match slot.take() {
            // a send error means the caller left meanwhile: nothing to do
            Some(done) if done.lane.is_done() => drop(done.reply.send(done.lane.finish())),
            // the caller left: the rest of its work is skipped
            Some(left) if left.reply.is_closed() => {}
            running => *slot = running,
        }
    }
}
