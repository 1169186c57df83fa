//! The crate's error type.

use uuid::Uuid;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The configuration is unusable (bad prefix, bad subject, zero sizes...).
    #[error("invalid bus configuration: {0}")]
    Config(String),
    /// An audit action name is not a valid dotted lower-case name.
    #[error("invalid audit action {0:?}")]
    InvalidAction(String),
    /// An outbox topic is not one the relay can route.
    #[error("unroutable outbox topic {0:?}")]
    InvalidTopic(String),
    /// A key for a key-value bucket contains characters NATS does not accept.
    #[error("invalid key-value key")]
    InvalidKey,
    /// An outbox payload is larger than the relay would be able to publish.
    #[error("outbox payload of {size} bytes exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// Serialized size of the payload.
        size: usize,
        /// The accepted maximum.
        limit: usize,
    },
    /// The user whose token version was to be bumped does not exist.
    #[error("user {0} not found")]
    UserNotFound(Uuid),
    /// NATS is not connected right now.
    #[error("NATS is not connected")]
    NotConnected,
    /// A NATS or JetStream operation failed.
    #[error("NATS {op} failed: {source}")]
    Nats {
        /// What was being done.
        op: &'static str,
        /// The client's error.
        #[source]
        source: async_nats::Error,
    },
    /// The token-version mirror (e.g. Redis) refused or failed.
    #[error("token version mirror failed: {0}")]
    Mirror(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A Postgres operation failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A payload could not be serialized or parsed.
    #[error("payload encoding error: {0}")]
    Json(#[from] serde_json::Error),
}

impl BusError {
    /// Wraps a NATS client error, naming the operation.
    pub(crate) fn nats(op: &'static str, source: impl Into<async_nats::Error>) -> Self {
        Self::Nats {
            op,
            source: source.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = BusError> = std::result::Result<T, E>;
