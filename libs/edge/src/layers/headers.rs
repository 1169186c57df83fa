//! Security headers (contract §7.4) and CORS (§8, API-05).

use poem::{
    Endpoint, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};

use super::{SharedRef, into_response};
use crate::EdgeConfig;

const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cache-control", "no-store"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];
const CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const HSTS: &str = "max-age=31536000; includeSubDomains";

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str =
    "Accept, Authorization, Content-Type, X-Request-ID, Idempotency-Key, X-CSRF-Token, X-App-Code";
/// [P] Lets browser SDKs read these (the original exposed none).
const EXPOSE_HEADERS: &str = "X-Request-ID, Retry-After";
const MAX_AGE: &str = "86400";

/// Set the §7.4 headers. A `Content-Security-Policy` the handler set itself is kept (e.g. a
/// docs page in development); every other header is forced.
pub(crate) fn security(resp: &mut Response, cfg: &EdgeConfig) {
    let h = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if cfg.production {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

/// The configured origins, minus a `*` in production (fail closed; `EdgeConfig::validate`
/// refuses that config at start-up).
fn allows_any(cfg: &EdgeConfig) -> bool {
    !cfg.production && cfg.cors_origins.iter().any(|o| o.trim() == "*")
}

fn listed(cfg: &EdgeConfig, origin: &str) -> bool {
    cfg.cors_origins
        .iter()
        .map(|o| o.trim().trim_end_matches('/'))
        .any(|o| o != "*" && o.eq_ignore_ascii_case(origin))
}

/// Add CORS headers for `origin`: a listed origin is echoed with credentials; with `*`
/// configured any origin gets `*` without credentials; anything else gets nothing.
pub(crate) fn cors(
    resp: &mut Response,
    origin: Option<&HeaderValue>,
    cfg: &EdgeConfig,
    preflight: bool,
) {
    let h = resp.headers_mut();
    if cfg.cors_origins.iter().any(|o| o.trim() != "*") {
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    let Some(origin) = origin else { return };
    let Ok(origin_str) = origin.to_str() else {
        return;
    };
    if listed(cfg, origin_str) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    } else if allows_any(cfg) {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else {
        return;
    }
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
    } else {
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
}

pub(crate) struct SecurityHeadersLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> Endpoint for SecurityHeadersLayer<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut resp = into_response(self.inner.call(req).await);
        security(&mut resp, &self.shared.cfg);
        Ok(resp)
    }
}

pub(crate) struct CorsLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> Endpoint for CorsLayer<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let origin = req.headers().get(header::ORIGIN).cloned();
        if req.method() == Method::OPTIONS {
            // Every OPTIONS ends here with 204, before the limiter counts it.
            let mut resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
            cors(&mut resp, origin.as_ref(), &self.shared.cfg, true);
            return Ok(resp);
        }
        let mut resp = into_response(self.inner.call(req).await);
        cors(&mut resp, origin.as_ref(), &self.shared.cfg, false);
        Ok(resp)
    }
}
