//! [`PasswordHasher`]: bcrypt at `BCRYPT_COST` on a small pool of dedicated, low-priority OS
//! threads, never on the async workers (ARCHITECTURE §8, FLT-07), and the dummy hash that
//! keeps unknown emails as slow as wrong passwords (PW-04).
//!
//! bcrypt is computed by our own EksBlowfish ([`eks`]), byte-identical to the `bcrypt` crate
//! (0.19) but able to run two hashes interleaved in one thread: a pool thread keeps two jobs in
//! progress whenever more are in flight than threads, for ~2x the hashes per CPU-second
//! (measured in docs/BENCHMARKS.md). The pool threads run at nice 19 and, since priorities
//! only rank threads inside our own process group, also step aside by themselves whenever the
//! machine has more runnable tasks than we have CPUs ([`yield_policy`]). Jobs reach the threads
//! through a bounded queue (`pool::Queue`); callers await a oneshot reply.
//!
//! Layout: [`HashError`], [`PasswordHasher`] (public API), [`eks`] (the bcrypt core),
//! [`format`] (the `$2b$` string), [`yield_policy`], `pool` (the threads; its
//! [`spawn_hashing_thread`], [`compute_single`] and [`compute_pair`] are public so benchmarks
//! measure exactly what a pool thread runs), `pi` (Blowfish's initial state).

pub mod eks;
pub mod format;
mod pi;
mod pool;
#[cfg(test)]
mod tests;
pub mod yield_policy;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OnceCell, oneshot};

use crate::domain::password::BCRYPT_MAX_BYTES;
use pool::{HashJob, Job, Queue};
pub use pool::{compute_pair, compute_single, spawn_hashing_thread};

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
    /// The configured cost is outside bcrypt's 4..=31.
    #[error("bcrypt cost {0} is outside 4..=31")]
    Cost(u32),
    /// No random salt could be drawn.
    #[error("no random salt: {0}")]
    Random(String),
    /// The hashing thread dropped the job without an answer (it panicked).
    #[error("hashing job failed")]
    Task,
}

/// bcrypt on a fixed pool of low-priority threads. Cheap to clone; the threads end when the
/// last clone is dropped.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cost: u32,
    jobs: Arc<Queue>,
    patience: Duration,
    dummy: OnceCell<String>,
}

impl PasswordHasher {
    /// A hasher at `cost` on `threads` dedicated threads (at least one).
    #[must_use]
    pub fn new(cost: u32, threads: usize) -> Self {
        Self::with_patience(cost, threads, QUEUE_PATIENCE)
    }

    fn with_patience(cost: u32, threads: usize, patience: Duration) -> Self {
        let threads = threads.max(1);
        // one queued job per thread (besides the two each one hashes): a lane that frees finds
        // its next job waiting
        let queue = Arc::new(Queue::new(threads));
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            if let Err(e) =
                spawn_hashing_thread(format!("bcrypt-{i}"), move || pool::worker(&queue))
            {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            inner: Arc::new(Inner {
                cost,
                jobs: queue,
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

    /// Queues `job`, waiting at most the patience for room.
    async fn submit(&self, job: Job) -> Result<(), HashError> {
        self.inner
            .jobs
            .push(job, self.inner.patience)
            .await
            .map_err(|_| HashError::Saturated)
    }

    /// bcrypt's raw output for `password` at `cost` and `salt`, computed on a pool thread.
    async fn raw(&self, cost: u32, salt: [u8; 16], password: &[u8]) -> Result<[u8; 24], HashError> {
        let (reply, answer) = oneshot::channel();
        let job = HashJob {
            cost,
            salt,
            password: password.to_vec(),
            reply,
        };
        self.submit(Job::Hash(job)).await?;
        answer.await.map_err(|_| HashError::Task)
    }

    /// A `$2b$` hash of `password`. More than 72 bytes is [`HashError::TooLong`], never
    /// truncated (decision §9.16); up to 72 bytes bcrypt reads every byte.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        if password.len() > BCRYPT_MAX_BYTES {
            return Err(HashError::TooLong);
        }
        let cost = self.inner.cost;
        if !format::COSTS.contains(&cost) {
            return Err(HashError::Cost(cost));
        }
        let mut salt = [0u8; 16];
        rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut salt)
            .map_err(|e| HashError::Random(e.to_string()))?;
        let raw = self.raw(cost, salt, password.as_bytes()).await?;
        Ok(format::format(cost, &salt, &raw))
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown user, SSO-only
    /// account) a dummy hash of the same cost is checked instead, so every path costs one
    /// bcrypt verification (PW-04); the answer is then `false`. A malformed stored hash is
    /// `false` too (PW-09), logged; a password over 72 bytes never matches.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let (target, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy().await?, false),
        };
        let parts = match format::parse(target) {
            Ok(p) => p,
            Err(e) => {
                if real {
                    tracing::error!(error = %e, "stored password hash is unusable");
                }
                return Ok(false);
            }
        };
        let too_long = password.len() > BCRYPT_MAX_BYTES;
        // a too-long password is replaced by a placeholder: same cost, never a match
        let candidate = if too_long { "x" } else { password };
        let raw = self
            .raw(parts.cost, parts.salt, candidate.as_bytes())
            .await?;
        Ok(format::matches(&parts, &raw) && real && !too_long)
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

impl Drop for Inner {
    fn drop(&mut self) {
        self.jobs.close();
    }
}

/// The number of cores this process may use (at least one).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
