//! The platform through its one base URL: health, routing of every documented path to its
//! owning service, the contract's envelope for unknown paths and malformed bodies, tokens.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Platform, client, documented_operations};

fn sample_path(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn health_is_served_by_the_ingress_with_security_headers() {
    let platform = Platform::start().await;
    let resp = client()
        .get(platform.url("/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"status": "healthy"})
    );
}

#[tokio::test]
async fn every_documented_path_reaches_its_owning_service() {
    let platform = Platform::start().await;
    let http = client();
    for (service, method, template) in documented_operations() {
        let path = sample_path(&template);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = http
            .request(method.clone(), platform.url(&path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request");
        let served_by = resp
            .headers()
            .get("x-served-by")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        assert_eq!(
            served_by.as_deref(),
            Some(service.as_str()),
            "{method} {path} was answered with {} by {served_by:?}, expected {service}",
            resp.status()
        );
    }
}

#[tokio::test]
async fn unknown_path_is_a_404_in_the_contract_envelope() {
    let platform = Platform::start().await;
    for path in ["/api/v1/no/such/route", "/nothing", "/api/v1/auth/me/extra"] {
        let resp = client()
            .get(platform.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let body: Value = resp.json().await.expect("json body");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}: {body}");
        assert!(body["error"]["details"].is_null());
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_invalid_input() {
    let platform = Platform::start().await;
    for body in ["{\"token\":", "not json", "[1,2"] {
        let resp = client()
            .post(platform.url("/api/v1/auth/validate"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        let reply: Value = resp.json().await.expect("json body");
        assert_eq!(reply["error"]["code"], "INVALID_INPUT", "{body}: {reply}");
    }
    // parsable JSON without a token is answered, not refused (contract §2.1)
    let missing = client()
        .post(platform.url("/api/v1/auth/validate"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::OK);
    let reply: Value = missing.json().await.expect("json body");
    assert_eq!(reply, json!({"valid": false}));
}

#[tokio::test]
async fn docs_pages_are_served_through_the_ingress() {
    let platform = Platform::start().await;
    let index = client()
        .get(platform.url("/docs"))
        .send()
        .await
        .expect("request");
    assert_eq!(index.status(), StatusCode::OK);
    assert!(index.text().await.expect("text").contains("/docs/identity"));
    for service in ["identity", "session", "authz", "audit"] {
        let page = client()
            .get(platform.url(&format!("/docs/{service}")))
            .send()
            .await
            .expect("request");
        assert_eq!(page.status(), StatusCode::OK, "/docs/{service}");
        assert!(
            page.text().await.expect("text").contains("swagger"),
            "/docs/{service}"
        );
    }
}

#[tokio::test]
async fn every_service_reports_ready_and_serves_metrics_at_its_root() {
    let platform = Platform::start().await;
    let http = client();
    for service in &platform.services {
        // NATS connects in the background: ready within a few seconds of the start.
        let mut ready = None;
        for _ in 0..100 {
            let resp = http
                .get(format!("{}/ready", service.base_url()))
                .send()
                .await
                .expect("ready");
            if resp.status() == StatusCode::OK {
                ready = Some(resp.json::<Value>().await.expect("json"));
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let ready =
            ready.unwrap_or_else(|| panic!("{} never ready:\n{}", service.name, service.output()));
        assert_eq!(ready["status"], "ready", "{}", service.name);
        assert_eq!(ready["checks"]["postgres"], "up", "{}", service.name);
        assert_eq!(ready["checks"]["redis"], "up", "{}", service.name);
        let metrics = http
            .get(format!("{}/metrics", service.base_url()))
            .send()
            .await
            .expect("metrics");
        assert_eq!(metrics.status(), StatusCode::OK);
        assert!(
            metrics.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/plain"),
            "{}",
            service.name
        );
        assert!(
            metrics
                .text()
                .await
                .expect("text")
                .contains("# TYPE http_requests_total counter")
        );
        let spec = http
            .get(format!("{}/openapi.json", service.base_url()))
            .send()
            .await
            .expect("spec");
        let spec: Value = spec.json().await.expect("spec json");
        assert_eq!(spec["servers"][0]["url"], "/api/v1", "{}", service.name);
    }
}
