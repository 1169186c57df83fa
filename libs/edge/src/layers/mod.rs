//! The middleware chain, outermost first (contract §1): panic recovery → access log (+
//! metrics, client IP) → request id → security headers → CORS → body limit → idempotency →
//! per-IP rate limiter → error mapping → router.

pub(crate) mod body;
pub(crate) mod errors;
pub(crate) mod headers;
pub(crate) mod idempotency;
pub(crate) mod observe;
pub(crate) mod panic;
pub(crate) mod rate_limit;
pub(crate) mod request_id;

use std::sync::Arc;

use auth_cache::Cache;
use bytes::Bytes;
use poem::{IntoResponse, Response};

use crate::{EdgeConfig, Metrics, RateLimiter, hints::FieldHints};

/// What every layer reads.
pub(crate) struct Shared {
    pub(crate) cfg: EdgeConfig,
    pub(crate) cache: Cache,
    pub(crate) metrics: Metrics,
    pub(crate) hints: Option<FieldHints>,
    pub(crate) limiter: RateLimiter,
}

/// The request body, read once by the body-limit layer and kept for idempotency hashing and
/// error mapping.
#[derive(Clone)]
pub(crate) struct BufferedBody(pub(crate) Bytes);

/// An inner result as a response (inner layers already map errors; this is a safety net).
pub(crate) fn into_response<T: IntoResponse>(r: poem::Result<T>) -> Response {
    match r {
        Ok(v) => v.into_response(),
        Err(e) => crate::error::bad_request_handler(e),
    }
}

/// Shorthand for the layers' shared state.
pub(crate) type SharedRef = Arc<Shared>;
