//! Errors of the cache.

/// Failures the cache reports to callers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The Redis URL could not be parsed.
    #[error("invalid redis url: {0}")]
    InvalidUrl(String),
    /// Redis is not configured or not answering and the caller asked for [`crate::Fallback::Fail`]
    /// (or used [`crate::Cache::add_to_windows`], which has no fallback).
    #[error("redis is unavailable")]
    Unavailable,
    /// The store is reachable but refused the command, so nothing was written and no fallback
    /// was used: Redis answered with an error reply (`OOM`, `READONLY`, `WRONGTYPE`, ...; the
    /// code is kept, never the reply text), or [`crate::Cache::set_max`] found a value that is
    /// not an integer. Only operations whose result decides something for the caller (e.g.
    /// [`crate::Cache::set_nx_ex`]) report it; the others use their fallback.
    #[error("the cache refused the command ({0})")]
    Rejected(String),
}
