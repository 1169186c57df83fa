//! The all-in-one binary answers every documented route of the four services on one port.

use testkit::{ServiceProcess, TestEnv};

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
async fn all_in_one_serves_every_service_route_and_health() {
    let env = TestEnv::new().await;
    let server = ServiceProcess::spawn("auth-server", &env.vars(), "SERVER_PORT")
        .await
        .expect("start auth-server");
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/health", server.base_url()))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.text().await.expect("body"),
        r#"{"status":"healthy"}"#
    );
    // NATS connects in the background: ready within a few seconds of the start.
    let mut ready = None;
    for _ in 0..100 {
        let resp = http
            .get(format!("{}/ready", server.base_url()))
            .send()
            .await
            .expect("ready");
        if resp.status() == 200 {
            ready = Some(resp.json::<serde_json::Value>().await.expect("json"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let ready = ready.unwrap_or_else(|| panic!("never ready: {}", server.output()));
    assert_eq!(ready["checks"]["postgres"], "up");
    assert_eq!(ready["checks"]["nats"], "up");

    for (_, doc) in auth_server::documents::documents() {
        let doc: serde_json::Value = serde_json::from_str(&doc).expect("json");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                let url = format!("{}/api/v1{}", server.base_url(), sample_path(path));
                let method =
                    reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let resp = http
                    .request(method.clone(), &url)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(
                    resp.headers()["x-served-by"],
                    "auth-server",
                    "{method} {url}"
                );
            }
        }
    }
    // The router counts requests it could not route under route="unmatched": there are none.
    let metrics = http
        .get(format!("{}/metrics", server.base_url()))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.expect("metrics text");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        !text.contains("route=\"unmatched\""),
        "a documented route was not routed:\n{text}"
    );
}
