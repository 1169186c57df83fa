//! Errors of the cache.

/// Failures the cache reports to callers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The Redis URL could not be parsed.
    #[error("invalid redis url: {0}")]
    InvalidUrl(String),
    /// Redis is not configured or not answering and the caller asked for [`crate::Fallback::Fail`].
    #[error("redis is unavailable")]
    Unavailable,
}
