//! Access log, request metrics and client-IP resolution.
//!
//! One `info` line per request: method, path, status, latency, client IP, request id. The
//! query string is never logged (tokens, codes and reset links travel there, under more paths
//! than a list could keep up with), nor are headers (Authorization included).

use std::time::Instant;

use poem::{Endpoint, PathPattern, Request, Response};

use super::{SharedRef, into_response};
use crate::{
    client_ip::{ClientIp, resolve_request},
    request_id::REQUEST_ID_HEADER,
};

pub(crate) struct ObserveLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> Endpoint for ObserveLayer<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let _in_flight = self.shared.metrics.in_flight();
        let ip = resolve_request(&req, &self.shared.cfg.trusted_proxies);
        req.extensions_mut().insert(ClientIp(ip));
        let method = req.method().clone();
        let path = req.uri().path().to_owned();

        let resp = into_response(self.inner.call(req).await);

        let took = started.elapsed();
        let status = resp.status().as_u16();
        let route = resp
            .data::<PathPattern>()
            .map(|p| p.0.to_string())
            .unwrap_or_else(|| "unmatched".to_owned());
        self.shared.metrics.record(&method, &route, status, took);
        let request_id = resp
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info!(
            target: "access",
            method = %method,
            path = %path,
            status,
            latency_ms = took.as_secs_f64() * 1000.0,
            client_ip = %ip,
            request_id,
            "request"
        );
        Ok(resp)
    }
}
