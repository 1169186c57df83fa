//! Per-IP rate limiter (contract §8, API-03, FLT-04): `RATE_LIMIT_REQUESTS` per
//! `RATE_LIMIT_WINDOW` per client IP, counted in Redis (`ratelimit:<ip>`, INCR + EXPIRE) or,
//! when Redis is down, in process memory. Over the limit: 429 `RATE_LIMITED` with
//! `Retry-After` as an HTTP-date.

use std::{net::IpAddr, time::Duration};

use auth_cache::Fallback;
use poem::{
    Endpoint, Request, Response,
    http::{HeaderValue, header},
};

use super::{SharedRef, into_response};
use crate::{
    client_ip::{ClientIp, limiter_key, resolve_request},
    error::ApiError,
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
        let key = format!("ratelimit:{}", limiter_key(ip));
        let counted = self
            .shared
            .cache
            .incr_window(&key, cfg.rate_limit_window, Fallback::Memory)
            .await;
        if let Ok(Some(n)) = counted
            && n.count > cfg.rate_limit_requests.max(1)
        {
            let mut resp =
                ApiError::rate_limited("Too many requests. Please try again later.").to_response();
            if let Ok(v) = HeaderValue::from_str(&http_date_after(n.resets_in)) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(resp);
        }
        Ok(into_response(self.inner.call(req).await))
    }
}
