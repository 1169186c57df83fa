//! [`PasswordHasher`]: bcrypt at `BCRYPT_COST` on a small pool of dedicated, low-priority OS
//! threads, never on the async workers (ARCHITECTURE §8, FLT-07), and the dummy hash that
//! keeps unknown emails as slow as wrong passwords (PW-04).
//!
//! The pool threads run at the lowest normal priority (Linux nice 19), so a tokio worker
//! with a request to serve preempts hashing at once, while CPU nobody else wants still goes
//! to hashing. Jobs reach the threads over a bounded channel; callers await a oneshot reply.
//!
//! Layout: [`HashError`], [`PasswordHasher`] (public API), [`spawn_hashing_thread`] (how
//! every pool thread starts, public so benchmarks measure raw bcrypt the same way), and the
//! private worker loop.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::domain::password::BCRYPT_MAX_BYTES;

/// How long a request waits for room in the hashing queue before it is refused with 503.
pub const QUEUE_PATIENCE: Duration = Duration::from_secs(10);

/// What went wrong around a hash (never a wrong password: that is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The queue stayed full for [`QUEUE_PATIENCE`].
    #[error("password hashing is saturated")]
    Saturated,
    /// More than 72 bytes: bcrypt would ignore the rest (the policy refuses these first).
    #[error("password longer than 72 bytes")]
    TooLong,
    /// bcrypt refused to hash.
    #[error("bcrypt: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    /// The hashing thread dropped the job without an answer (it panicked).
    #[error("hashing job failed")]
    Task,
}

/// A unit of work for a pool thread; it sends its own answer.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// bcrypt on a fixed pool of low-priority threads. Cheap to clone; the threads end when the
/// last clone is dropped.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cost: u32,
    jobs: mpsc::Sender<Job>,
    patience: Duration,
    dummy: OnceCell<String>,
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

/// A pool thread: takes jobs until every sender is gone. A panicking job only loses its
/// own answer (its caller sees [`HashError::Task`]); the thread lives on.
fn worker(jobs: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .blocking_recv();
        let Some(job) = job else { return };
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a hashing job panicked");
        }
    }
}

impl PasswordHasher {
    /// A hasher at `cost` on `threads` dedicated threads (at least one).
    #[must_use]
    pub fn new(cost: u32, threads: usize) -> Self {
        Self::with_patience(cost, threads, QUEUE_PATIENCE)
    }

    fn with_patience(cost: u32, threads: usize, patience: Duration) -> Self {
        let threads = threads.max(1);
        // one queued job per thread: a thread that finishes finds its next job waiting
        let (tx, rx) = mpsc::channel::<Job>(threads);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            if let Err(e) = spawn_hashing_thread(format!("bcrypt-{i}"), move || worker(&rx)) {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            inner: Arc::new(Inner {
                cost,
                jobs: tx,
                patience,
                dummy: OnceCell::new(),
            }),
        }
    }

    /// One thread per available core: bcrypt is pure CPU.
    #[must_use]
    pub fn per_core(cost: u32) -> Self {
        Self::new(cost, cores())
    }

    /// The configured cost.
    #[must_use]
    pub fn cost(&self) -> u32 {
        self.inner.cost
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // the caller gave up (client gone): skip the work
            if !reply.is_closed() {
                // a send error means the caller left meanwhile: nothing to do
                drop(reply.send(job()));
            }
        });
        self.inner
            .jobs
            .send_timeout(job, self.inner.patience)
            .await
            .map_err(|_| HashError::Saturated)?;
        answer.await.map_err(|_| HashError::Task)
    }

    /// A `$2b$` hash of `password`. More than 72 bytes is [`HashError::TooLong`], never
    /// truncated (decision §9.16); up to 72 bytes bcrypt reads every byte.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        if password.len() > BCRYPT_MAX_BYTES {
            return Err(HashError::TooLong);
        }
        let password = password.to_owned();
        let cost = self.inner.cost;
        Ok(self.run(move || bcrypt::hash(password, cost)).await??)
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown user, SSO-only
    /// account) a dummy hash of the same cost is checked instead, so every path costs one
    /// bcrypt verification (PW-04); the answer is then `false`. A malformed stored hash is
    /// `false` too (PW-09), logged; a password over 72 bytes never matches.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let (target, real) = match stored {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy().await?.to_owned(), false),
        };
        let too_long = password.len() > BCRYPT_MAX_BYTES;
        // a too-long password is replaced by a placeholder: same cost, never a match
        let candidate = if too_long {
            String::from("x")
        } else {
            password.to_owned()
        };
        let verdict = self.run(move || bcrypt::verify(candidate, &target)).await?;
        match verdict {
            Ok(ok) => Ok(ok && real && !too_long),
            Err(e) => {
                if real {
                    tracing::error!(error = %e, "stored password hash is unusable");
                }
                Ok(false)
            }
        }
    }

    /// The dummy hash, computed once per hasher.
    async fn dummy(&self) -> Result<&str, HashError> {
        self.inner
            .dummy
            .get_or_try_init(|| self.hash("dummy-password-for-unknown-users"))
            .await
            .map(String::as_str)
    }

    /// Computes the dummy hash now (so the first unknown-email login is not slower).
    pub async fn warm_up(&self) -> Result<(), HashError> {
        self.dummy().await.map(drop)
    }
}

/// The number of cores this process may use (at least one).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_refuse() {
        let h = PasswordHasher::new(4, 2);
        let hash = h.hash("Correct1horse").await.expect("hash");
        assert!(hash.starts_with("$2b$04$"));
        assert!(
            h.verify("Correct1horse", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(!h.verify("Wrong1horse", Some(&hash)).await.expect("verify"));
        assert!(!h.verify("Correct1horse", None).await.expect("dummy"));
        // PW-09: a corrupted hash with a multi-byte character is a plain "no"
        let corrupt = format!("$2b$04${}é", "a".repeat(51));
        assert!(
            !h.verify("Correct1horse", Some(&corrupt))
                .await
                .expect("corrupt")
        );
        assert!(matches!(
            h.hash(&"x".repeat(73)).await,
            Err(HashError::TooLong)
        ));
        let max = "x".repeat(72);
        let hash72 = h.hash(&max).await.expect("72 bytes");
        assert!(h.verify(&max, Some(&hash72)).await.expect("verify 72"));
        assert!(!h.verify(&"x".repeat(71), Some(&hash72)).await.expect("71"));
        assert!(!h.verify(&"x".repeat(80), Some(&hash)).await.expect("long"));
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    /// The calling thread's nice value, from `/proc/thread-self/stat` (field 19).
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
        let after_name = &stat[stat.rfind(')').expect("comm") + 1..];
        let field = after_name.split_whitespace().nth(16).expect("nice field");
        field.parse().expect("number")
    }

    #[tokio::test]
    async fn pool_threads_run_at_nice_19_and_callers_keep_theirs() {
        let before = own_nice();
        let h = PasswordHasher::new(4, 2);
        assert_eq!(h.run(own_nice).await.expect("run"), 19);
        assert_eq!(own_nice(), before);
    }

    #[tokio::test]
    async fn full_queue_is_saturated_and_panics_are_task_errors() {
        let h = PasswordHasher::with_patience(4, 1, Duration::from_millis(50));
        let (started_tx, started_rx) = oneshot::channel();
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let h = h.clone();
            async move {
                h.run(move || {
                    let _ = started_tx.send(());
                    let _ = gate_rx.recv();
                })
                .await
            }
        });
        started_rx.await.expect("job started");
        // the one thread is busy; this fills the one queue place
        h.inner
            .jobs
            .send(Box::new(|| {}))
            .await
            .expect("queue has room");
        assert!(matches!(h.run(|| 1).await, Err(HashError::Saturated)));
        gate_tx.send(()).expect("release");
        busy.await.expect("join").expect("busy job");
        // a panicking job answers Task and the thread keeps serving
        let panicked: Result<(), _> = h.run(|| std::panic::panic_any("boom")).await;
        assert!(matches!(panicked, Err(HashError::Task)));
        assert_eq!(h.run(|| 7).await.expect("after panic"), 7);
    }
}
