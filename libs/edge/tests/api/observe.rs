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

/// Log lines written on this thread while a capture is active.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's capture, if any (other tests' threads are discarded).
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(c) = c.borrow().as_ref() {
                c.0.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Start capturing this thread's log output. A process-wide subscriber is installed once:
    /// a thread-scoped one would race with other tests over tracing's per-callsite interest
    /// cache and could miss events.
    fn start() -> Self {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadWriter)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber");
        });
        let c = Self::default();
        CAPTURE.with(|slot| *slot.borrow_mut() = Some(c.clone()));
        c
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

// JWT-12 (log half), sentinel-secret grep: a token in the query string never reaches the log,
// whatever the path looks like (a trailing slash, an unknown path, a 404): the access log
// carries the path only.
#[tokio::test]
async fn the_access_log_never_contains_the_query_string() {
    // The test runtime is single-threaded and TestClient calls the endpoint in this task, so
    // every event of these requests is written on this thread.
    let captured = Captured::start();

    let a = app(config()).await;
    for uri in [
        "/auth/verify-email/?token=secret-sentinel",
        "/api/v1/auth/verify-email?token=secret-sentinel",
        "/health?token=secret-sentinel&x=1",
        "/health/?next=%2Fsecret-sentinel",
    ] {
        a.cli.get(uri).send().await;
    }
    a.cli
        .post("/echo?code=secret-sentinel")
        .body("x")
        .send()
        .await
        .assert_status(poem::http::StatusCode::CREATED);

    let log = captured.text();
    assert!(
        log.contains("/auth/verify-email/") && log.contains("path=/echo"),
        "the access log lines were not captured: {log}"
    );
    assert!(log.matches(" request ").count() >= 5, "{log}");
    assert!(!log.contains("secret-sentinel"), "query leaked: {log}");
    assert!(!log.contains("token="), "query leaked: {log}");
}
