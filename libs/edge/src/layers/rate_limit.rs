//! Per-IP rate limiter layer (contract §8, API-03, FLT-04): `RATE_LIMIT_REQUESTS` per
//! `RATE_LIMIT_WINDOW` per client IP, counted by [`crate::RateLimiter`] (process memory,
//! synced with Redis `ratelimit:<ip>` in batches; see its docs for the cross-replica bound).
//! When its table is full, a client is counted directly in the cache (`INCR` + `PEXPIRE`, or
//! the in-process store when Redis is down). Over the limit: 429 `RATE_LIMITED` with
//! `Retry-After` as an HTTP-date.

use std::{net::IpAddr, time::Duration};

use auth_cache::Fallback;
use poem::{
    Endpoint, Request, Response,
    http::{HeaderValue, header},
};

use super::{SharedRef, into_response};
use crate::{
    RateLimiter,
    client_ip::{ClientIp, limiter_key, resolve_request},
    error::ApiError,
    limiter::Hit,
};

/// RFC 1123 date of now + `after`, rounded up to a whole second.
pub(crate) fn http_date_after(after: Duration) -> String {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    let at = chrono::Utc::now()
        + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000));
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub(crate) struct RateLimitLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> Endpoint for RateLimitLayer<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let cfg = &self.shared.cfg;
        let ip: IpAddr = req
            .extensions()
            .get::<ClientIp>()
            .map(|c| c.0)
            .unwrap_or_else(|| resolve_request(&req, &cfg.trusted_proxies));
        let limiter = &self.shared.limiter;
        let refused = match limiter.hit(ip) {
            Hit::Allowed => None,
            Hit::Limited(resets_in) => Some(resets_in),
            Hit::Untracked => count_in_cache(limiter, ip).await,
        };
        if let Some(resets_in) = refused {
            let mut resp =
                ApiError::rate_limited("Too many requests. Please try again later.").to_response();
            if let Ok(v) = HeaderValue::from_str(&http_date_after(resets_in)) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(resp);
        }
        Ok(into_response(self.inner.call(req).await))
    }
}

/// The limiter's table is full: one round trip per request, as before batching. `Some` with
/// the time to the window's end when the client is over its budget.
async fn count_in_cache(limiter: &RateLimiter, ip: IpAddr) -> Option<Duration> {
    let key = format!("ratelimit:{}", limiter_key(ip));
    let counted = limiter
        .cache()
        .incr_window(&key, limiter.window(), Fallback::Memory)
        .await;
    match counted {
        Ok(Some(n)) if n.count > limiter.limit() => Some(n.resets_in),
        _ => None,
    }
}
