//! Bucket names, configuration, errors, and bucket creation.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv};

use crate::clock::{Clock, SystemClock};

/// Bucket name (after the prefix) of the token versions.
pub const TOKEN_VERSIONS_BUCKET: &str = "token_versions";
/// Bucket name (after the prefix) of the revoked access-token ids.
pub const REVOKED_JTI_BUCKET: &str = "revoked_jti";

/// Failure to set up the buckets or start the watcher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsRevocationError {
    /// A bucket could not be opened or created.
    #[error("key-value bucket {bucket}: {message}")]
    Bucket {
        /// The full bucket name.
        bucket: String,
        /// What NATS answered.
        message: String,
    },
    /// The initial state was not loaded within `sync_timeout`.
    #[error("initial revocation state not loaded within {0:?}")]
    SyncTimeout(Duration),
}

/// Settings of [`NatsRevocation`].
#[derive(Clone, Debug)]
pub struct NatsRevocationConfig {
    /// Prefix of both bucket names (default empty; tests use a random one).
    pub prefix: String,
    /// How long the feed may be lost before lookups fail closed (default 30 s).
    pub max_staleness: Duration,
    /// How long [`NatsRevocation::start`] waits for the initial state (default 10 s).
    pub sync_timeout: Duration,
    /// How often the health of the feed is sampled (default 250 ms).
    pub health_interval: Duration,
    /// Time source for staleness and `jti` expiry.
    pub clock: Arc<dyn Clock>,
}

impl Default for NatsRevocationConfig {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            max_staleness: Duration::from_secs(30),
            sync_timeout: Duration::from_secs(10),
            health_interval: Duration::from_millis(250),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Creates the two buckets when missing (platform services call this at start).
/// `revoked_jti_max_age` should be at least the access-token lifetime.
pub async fn ensure_buckets(
    js: &jetstream::Context,
    prefix: &str,
    revoked_jti_max_age: Duration,
) -> Result<(kv::Store, kv::Store), NatsRevocationError> {
    let tv = ensure_bucket(
        js,
        format!("{prefix}{TOKEN_VERSIONS_BUCKET}"),
        Duration::ZERO,
    )
    .await?;
    let jti = ensure_bucket(
        js,
        format!("{prefix}{REVOKED_JTI_BUCKET}"),
        revoked_jti_max_age,
    )
    .await?;
    Ok((tv, jti))
}

async fn ensure_bucket(
    js: &jetstream::Context,
    bucket: String,
    max_age: Duration,
) -> Result<kv::Store, NatsRevocationError> {
    if let Ok(store) = js.get_key_value(bucket.clone()).await {
        return Ok(store);
    }
    let config = kv::Config {
        bucket: bucket.clone(),
        history: 1,
        max_age,
        ..Default::default()
    };
    match js.create_key_value(config).await {
        Ok(store) => Ok(store),
        // Another replica may have created it in between.
        Err(create_err) => {
            js.get_key_value(bucket.clone())
                .await
                .map_err(|_| NatsRevocationError::Bucket {
                    bucket,
                    message: create_err.to_string(),
                })
        }
    }
}

pub(super) async fn open_bucket(
    js: &jetstream::Context,
    bucket: String,
) -> Result<kv::Store, NatsRevocationError> {
    js.get_key_value(bucket.clone())
        .await
        .map_err(|e| NatsRevocationError::Bucket {
            bucket,
            message: e.to_string(),
        })
}
