//! [`EdgeConfig`]: plain data filled by the settings crate (no environment reading here).

use std::time::Duration;

use ipnet::IpNet;

/// How the edge behaves.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Allowed CORS origins (`CORS_ORIGINS`); `*` allows any origin without credentials.
    pub cors_origins: Vec<String>,
    /// `ENVIRONMENT=production`: adds HSTS and forbids a `*` origin.
    pub production: bool,
    /// Largest accepted request body in bytes (5 MB in the original).
    pub body_limit: usize,
    /// Requests per window per client IP (`RATE_LIMIT_REQUESTS`, at least 1).
    pub rate_limit_requests: u64,
    /// The rate-limit window (`RATE_LIMIT_WINDOW`).
    pub rate_limit_window: Duration,
    /// How often each process pushes its locally counted hits to Redis and learns the global
    /// counts back (50 ms). Across replicas a client can overshoot its budget by what the
    /// other replicas admit within about one interval (see [`crate::RateLimiter`]).
    pub rate_limit_sync_interval: Duration,
    /// Most client keys the limiter tracks in memory (100,000, about 100 bytes each); beyond
    /// that, new clients are counted with one Redis round trip per request.
    pub rate_limit_max_keys: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    /// How long an idempotent reply is kept (5 minutes in the original).
    pub idempotency_ttl: Duration,
    /// Longest wait for a whole request body (`SERVER_READ_TIMEOUT`, 15 s); a body that has
    /// not arrived by then is answered 408 `VALIDATION_ERROR`.
    pub read_timeout: Duration,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            cors_origins: vec!["*".to_owned()],
            production: false,
            body_limit: 5 * 1024 * 1024,
            rate_limit_requests: 100,
            rate_limit_window: Duration::from_secs(60),
            rate_limit_sync_interval: Duration::from_millis(50),
            rate_limit_max_keys: 100_000,
            trusted_proxies: Vec::new(),
            idempotency_ttl: Duration::from_secs(300),
            read_timeout: Duration::from_secs(15),
        }
    }
}

/// A configuration the edge refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdgeConfigError {
    /// `CORS_ORIGINS` contains `*` while `ENVIRONMENT=production`.
    #[error("CORS_ORIGINS must not contain '*' when ENVIRONMENT=production")]
    WildcardCorsInProduction,
    /// `RATE_LIMIT_REQUESTS` is 0.
    #[error("RATE_LIMIT_REQUESTS must be at least 1")]
    ZeroRateLimit,
    /// `RATE_LIMIT_WINDOW` is zero.
    #[error("RATE_LIMIT_WINDOW must be positive")]
    ZeroRateLimitWindow,
}

impl EdgeConfig {
    /// Check the rules the original enforced at start-up. The settings crate calls this so a
    /// bad value stops the binary; [`crate::wrap`] also drops a production `*` origin (fail
    /// closed) should an unchecked config reach it.
    pub fn validate(&self) -> Result<(), EdgeConfigError> {
        if self.production && self.cors_origins.iter().any(|o| o.trim() == "*") {
            return Err(EdgeConfigError::WildcardCorsInProduction);
        }
        if self.rate_limit_requests == 0 {
            return Err(EdgeConfigError::ZeroRateLimit);
        }
        if self.rate_limit_window.is_zero() {
            return Err(EdgeConfigError::ZeroRateLimitWindow);
        }
        Ok(())
    }
}
