//! [`PasswordHasher`]: bcrypt at `BCRYPT_COST` on a bounded pool of blocking threads, never
//! on the async workers (ARCHITECTURE §8, FLT-07), and the dummy hash that keeps unknown
//! emails as slow as wrong passwords (PW-04).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

use crate::domain::password::BCRYPT_MAX_BYTES;

/// How long a request waits for a hashing slot before it is refused with 503.
pub const QUEUE_PATIENCE: Duration = Duration::from_secs(10);

/// What went wrong around a hash (never a wrong password: that is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// No hashing slot became free within [`QUEUE_PATIENCE`].
    #[error("password hashing is saturated")]
    Saturated,
    /// More than 72 bytes: bcrypt would ignore the rest (the policy refuses these first).
    #[error("password longer than 72 bytes")]
    TooLong,
    /// bcrypt refused to hash.
    #[error("bcrypt: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    /// The blocking task died.
    #[error("hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// bcrypt on at most `slots` blocking threads at a time. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cost: u32,
    slots: Semaphore,
    dummy: OnceCell<String>,
}

impl PasswordHasher {
    /// A hasher at `cost` running at most `slots` hashes at once (at least one).
    #[must_use]
    pub fn new(cost: u32, slots: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                cost,
                slots: Semaphore::new(slots.max(1)),
                dummy: OnceCell::new(),
            }),
        }
    }

    /// One slot per available core: bcrypt is pure CPU.
    #[must_use]
    pub fn per_core(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(cost, cores)
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
        let permit = tokio::time::timeout(QUEUE_PATIENCE, self.inner.slots.acquire())
            .await
            .map_err(|_| HashError::Saturated)?
            .map_err(|_| HashError::Saturated)?;
        let out = tokio::task::spawn_blocking(job).await?;
        drop(permit);
        Ok(out)
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
