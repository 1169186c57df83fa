//! Metrics exposition.

use std::collections::HashMap;

use crate::helpers::{app, config, header};

/// Parse the text exposition strictly enough to catch format mistakes: every sample's family
/// has HELP and TYPE lines first, values are numbers, label sets are well-formed.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut helped = std::collections::HashSet::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split_once(' ').expect("HELP text").0.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_owned(), kind.to_owned());
        } else {
            let (series, value) = line.rsplit_once(' ').expect("sample");
            let value: f64 = value.parse().expect("numeric value");
            let name = series.split('{').next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
                })
                .unwrap_or(name);
            assert!(typed.contains_key(family), "no TYPE before {line}");
            assert!(helped.contains(family), "no HELP before {line}");
            if let Some(labels) = series.strip_prefix(name)
                && !labels.is_empty()
            {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                for pair in labels[1..labels.len() - 1].split("\",") {
                    let (k, v) = pair.split_once('=').expect("label pair");
                    assert!(!k.is_empty() && v.starts_with('"'), "{line}");
                }
            }
            samples.insert(series.to_owned(), value);
        }
    }
    samples
}

#[tokio::test]
async fn metrics_render_parses_and_counts() {
    let a = app(config()).await;
    let extra = a.metrics.counter("logins_total", "Logins.").unwrap();
    extra.fetch_add(7, std::sync::atomic::Ordering::Relaxed);
    assert!(a.metrics.gauge("logins_total", "clash").is_err());
    assert!(a.metrics.counter("bad name", "x").is_err());

    for _ in 0..3 {
        a.cli.get("/health").send().await.assert_status_is_ok();
    }
    a.cli.get("/nope").send().await;
    let resp = a.cli.get("/metrics").send().await;
    resp.assert_status_is_ok();
    assert_eq!(
        header(&resp, "content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = resp.0.into_body().into_string().await.unwrap();
    let s = parse(&text);
    assert_eq!(
        s[r#"http_requests_total{method="GET",route="/health",status="2xx"}"#],
        3.0
    );
    assert_eq!(
        s[r#"http_requests_total{method="GET",route="unmatched",status="4xx"}"#],
        1.0
    );
    assert_eq!(
        s[r#"http_request_duration_seconds_count{route="/health"}"#],
        3.0
    );
    assert_eq!(
        s[r#"http_request_duration_seconds_bucket{route="/health",le="+Inf"}"#],
        3.0
    );
    // The /metrics request itself is in flight while rendering.
    assert_eq!(s["http_requests_in_flight"], 1.0);
    assert_eq!(s["logins_total"], 7.0);

    // Counters only go up.
    a.cli.get("/health").send().await;
    let again = parse(&a.metrics.render());
    assert_eq!(
        again[r#"http_requests_total{method="GET",route="/health",status="2xx"}"#],
        4.0
    );
}
