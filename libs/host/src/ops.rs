//! The operational routes every service answers at its root: `/health`, `/ready`,
//! `/metrics`, `/openapi.json` and `/docs` (contract §1, decision §9.17).

use auth_cache::RedisHealth;
use poem::http::{StatusCode, header};
use poem::middleware::SetHeader;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, handler};
use serde_json::json;

use crate::Platform;

/// The docs page runs the bundled Swagger UI, which needs inline scripts and styles; every
/// other response keeps the strict policy of contract §7.4.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self' 'unsafe-inline'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// `GET /health`: always `{"status":"healthy"}`, no dependency probe (contract §1).
#[handler]
pub fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "healthy"}))
}

/// `GET /ready`: 200 when Postgres and NATS answer, else 503; Redis is optional and only
/// reported. Body: `{"status": "ready"|"not_ready", "checks": {...}}`.
#[handler]
pub async fn ready(platform: Data<&Platform>) -> Response {
    let postgres = auth_db::ping(&platform.db).await;
    let nats = platform.bus.is_connected();
    let redis = match platform.cache.ping().await {
        RedisHealth::Up => "up",
        RedisHealth::NotConfigured => "disabled",
        _ => "down",
    };
    let revocation = if platform.revocation.primary.is_healthy() {
        "watching"
    } else {
        "postgres"
    };
    let ok = postgres && nats;
    let body = json!({
        "status": if ok { "ready" } else { "not_ready" },
        "checks": {
            "postgres": if postgres { "up" } else { "down" },
            "redis": redis,
            "nats": if nats { "up" } else { "down" },
            "revocation": revocation,
        }
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &body)
}

/// Wraps the interactive docs endpoint with the policy its page needs.
pub fn docs_page<E: Endpoint + 'static>(docs: E) -> impl Endpoint {
    docs.with(SetHeader::new().overriding(header::CONTENT_SECURITY_POLICY, DOCS_CSP))
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, poem::web::Json(body.clone())).into_response()
}
