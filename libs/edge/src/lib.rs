//! The HTTP edge every service wraps its routes in.
//!
//! [`wrap`] (or [`Edge`] for extras) composes the contract's middleware chain (§1), outermost
//! first: panic recovery → access log (with metrics and client-IP resolution) → request id →
//! security headers (§7.4) → CORS (§8; every `OPTIONS` answered 204 here) → body limit →
//! idempotency → per-IP rate limiter → error mapping → your endpoint. Every error that
//! reaches the edge leaves as the §4.1 envelope ([`ApiError`]): parse errors are 400
//! `INVALID_INPUT` (with `details.field` when known), a body over the limit 413
//! `VALIDATION_ERROR`, a body not received within [`EdgeConfig::read_timeout`] 408
//! `VALIDATION_ERROR`, an unknown path 404 `NOT_FOUND` and a wrong method 405
//! `METHOD_NOT_ALLOWED` — we use the envelope here where the original's ServeMux answered
//! plain text [P].
//!
//! # Usage
//!
//! ```no_run
//! # async fn demo(routes: poem::Route, spec_json: String) -> Result<(), auth_cache::CacheError> {
//! use auth_edge::{Edge, EdgeConfig, Metrics};
//!
//! let cache = auth_cache::Cache::connect(auth_cache::CacheConfig::default()).await?;
//! let metrics = Metrics::new();
//! // `spec_json` is `OpenApiService::spec()`: it lets the edge name missing body fields.
//! let app = Edge::new(EdgeConfig::default(), cache, metrics.clone())
//!     .with_openapi_spec(&spec_json)
//!     .wrap(routes);
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! Handlers read [`ClientIp`] and [`RequestId`] as extractors. The production `*` CORS
//! check lives in [`EdgeConfig::validate`], which the settings crate runs at start-up.
//!
//! # Layout
//! - `error/`: [`ErrorCode`] (§4.2), [`ApiError`] (the envelope), [`bad_request_handler`].
//! - `layers/`: one module per middleware, see `layers/mod.rs` for the order.
//! - `client_ip.rs`: [`ClientIp`] (API-03 right-most-untrusted rule) and its extractor.
//! - `limiter.rs`: [`RateLimiter`], per-IP counts in memory, synced with Redis in batches.
//! - `request_id.rs`: [`RequestId`], id format and sanity rule.
//! - `metrics.rs`: [`Metrics`], Prometheus text rendering.
//! - `hints.rs`: [`FieldHints`], naming the field of a poem-openapi body error.
//! - `config.rs`: [`EdgeConfig`] and its start-up check.
//! - `openapi.rs`: [`ErrorEnvelope`] schema types for OpenAPI documents.

mod client_ip;
mod config;
mod error;
mod hints;
mod layers;
mod limiter;
mod metrics;
mod openapi;
mod request_id;

use std::sync::Arc;

use auth_cache::Cache;
use poem::{Endpoint, EndpointExt, endpoint::BoxEndpoint};

pub use client_ip::{ClientIp, resolve as resolve_client_ip};
pub use config::{EdgeConfig, EdgeConfigError};
pub use error::{ApiError, ErrorCode, GENERIC_5XX_MESSAGE, JSON_CONTENT_TYPE, bad_request_handler};
pub use hints::{FieldHints, FieldProblem};
pub use layers::idempotency::{IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER};
pub use limiter::RateLimiter;
pub use metrics::{METRICS_CONTENT_TYPE, Metrics, MetricsError};
pub use openapi::{ErrorEnvelope, ErrorPayload};
pub use request_id::{REQUEST_ID_HEADER, RequestId};

use layers::{
    Shared, body::BodyLimitLayer, errors::ErrorLayer, headers::CorsLayer,
    headers::SecurityHeadersLayer, idempotency::IdempotencyLayer, observe::ObserveLayer,
    panic::PanicLayer, rate_limit::RateLimitLayer, request_id::RequestIdLayer,
};

/// Builder for the edge when more than [`wrap`]'s arguments are needed.
pub struct Edge {
    cfg: EdgeConfig,
    cache: Cache,
    metrics: Metrics,
    hints: Option<FieldHints>,
    limiter: RateLimiter,
}

impl Edge {
    /// An edge with the given config, cache (for idempotency and the limiter) and metrics.
    pub fn new(cfg: EdgeConfig, cache: Cache, metrics: Metrics) -> Self {
        let limiter = RateLimiter::new(&cfg, cache.clone());
        Self {
            cfg,
            cache,
            metrics,
            hints: None,
            limiter,
        }
    }

    /// The per-IP limiter this edge will use (e.g. to [`RateLimiter::sync`] at shutdown).
    pub fn rate_limiter(&self) -> RateLimiter {
        self.limiter.clone()
    }

    /// Learn required fields and property types from an OpenAPI JSON document
    /// (`OpenApiService::spec()`), so a missing or mistyped body field is named in
    /// `details.field`. May be called once per document.
    #[must_use]
    pub fn with_openapi_spec(mut self, spec_json: &str) -> Self {
        let more = FieldHints::from_openapi_json(spec_json);
        match &mut self.hints {
            Some(h) => h.merge(more),
            None => self.hints = Some(more),
        }
        self
    }

    /// Wrap `ep` in the whole chain.
    pub fn wrap<E: Endpoint + 'static>(self, ep: E) -> BoxEndpoint<'static> {
        let mut cfg = self.cfg;
        if cfg.production && cfg.cors_origins.iter().any(|o| o.trim() == "*") {
            tracing::error!("CORS_ORIGINS contains '*' in production; ignoring '*'");
            cfg.cors_origins.retain(|o| o.trim() != "*");
        }
        let shared = Arc::new(Shared {
            cfg,
            cache: self.cache,
            metrics: self.metrics,
            hints: self.hints,
            limiter: self.limiter,
        });
        let s = || shared.clone();
        let ep = ErrorLayer {
            inner: ep,
            shared: s(),
        };
        let ep = RateLimitLayer {
            inner: ep,
            shared: s(),
        };
        let ep = IdempotencyLayer {
            inner: ep,
            shared: s(),
        };
        let ep = BodyLimitLayer {
            inner: ep,
            shared: s(),
        };
        let ep = CorsLayer {
            inner: ep,
            shared: s(),
        };
        let ep = SecurityHeadersLayer {
            inner: ep,
            shared: s(),
        };
        let ep = RequestIdLayer { inner: ep };
        let ep = ObserveLayer {
            inner: ep,
            shared: s(),
        };
        PanicLayer {
            inner: ep,
            shared: s(),
        }
        .boxed()
    }
}

/// Wrap `ep` in the contract's middleware chain; see the crate docs for the order.
pub fn wrap<E: Endpoint + 'static>(
    ep: E,
    cfg: EdgeConfig,
    cache: Cache,
    metrics: Metrics,
) -> BoxEndpoint<'static> {
    Edge::new(cfg, cache, metrics).wrap(ep)
}
