//! Access log, request metrics and client-IP resolution.
//!
//! One `info` line per request: method, path, query (dropped for paths that carry secrets in
//! the query string), status, latency, client IP, request id. Headers (Authorization
//! included) are never logged.

use std::time::Instant;

use poem::{Endpoint, PathPattern, Request, Response};

use super::{SharedRef, into_response};
use crate::{
    client_ip::{ClientIp, resolve_request},
    request_id::REQUEST_ID_HEADER,
};

/// Paths whose query string carries a token or code (contract §1, plus the magic-link verify
/// link of §2.3 as our own addition).
const SECRET_QUERY_PATHS: [&str; 4] = [
    "/auth/verify-email",
    "/auth/sso/callback",
    "/auth/password/reset",
    "/auth/magic-link/verify",
];

/// The query string as it may be logged.
pub(crate) fn loggable_query<'a>(path: &str, query: Option<&'a str>) -> &'a str {
    if SECRET_QUERY_PATHS.iter().any(|p| path.ends_with(p)) {
        return "";
    }
    query.unwrap_or("")
}

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
        let query = loggable_query(&path, req.uri().query()).to_owned();

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
            query = %query,
            status,
            latency_ms = took.as_secs_f64() * 1000.0,
            client_ip = %ip,
            request_id,
            "request"
        );
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_query;

    #[test]
    fn secret_queries_are_dropped() {
        assert_eq!(
            loggable_query("/api/v1/auth/verify-email", Some("token=x")),
            ""
        );
        assert_eq!(
            loggable_query("/auth/sso/callback", Some("code=1&state=2")),
            ""
        );
        assert_eq!(loggable_query("/auth/password/reset", Some("token=x")), "");
        assert_eq!(loggable_query("/admin/users", Some("page=2")), "page=2");
    }
}
