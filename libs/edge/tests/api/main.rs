//! auth-edge behind poem's TestClient, with the real Redis (REDIS_URL, random key prefixes).

mod errors;
mod headers;
mod helpers;
mod idempotency;
mod limits;
mod observe;
mod timeouts;
