//! A small Prometheus registry: request counter, in-flight gauge, latency histogram, and
//! named counters/gauges services add. [`Metrics::render`] writes the text exposition format
//! 0.0.4.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use poem::{Endpoint, Request, Response, endpoint::make_sync, http::header};

/// `Content-Type` of the exposition.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const REQUESTS: &str = "http_requests_total";
const IN_FLIGHT: &str = "http_requests_in_flight";
const LATENCY: &str = "http_request_duration_seconds";

/// Why a metric could not be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsError {
    /// Not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {0:?}")]
    InvalidName(String),
    /// Already registered as another kind, or a built-in name.
    #[error("metric {0:?} already exists with another type")]
    Conflict(String),
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

enum Extra {
    Counter(String, Arc<AtomicU64>),
    Gauge(String, Arc<AtomicI64>),
}

type RequestKey = (&'static str, String, &'static str);

#[derive(Default)]
struct Registry {
    requests: RwLock<HashMap<RequestKey, Arc<AtomicU64>>>,
    in_flight: AtomicI64,
    latency: RwLock<HashMap<String, Arc<Histogram>>>,
    extras: Mutex<BTreeMap<String, Extra>>,
}

/// Cheap-to-clone handle to one registry.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Registry>,
}

/// Decrements the in-flight gauge when dropped (also on panic).
pub(crate) struct InFlight(Arc<Registry>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn method_label(m: &poem::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Escape a label value (backslash, double quote, newline).
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Escape HELP text (backslash, newline).
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn in_flight(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.inner.clone())
    }

    /// Count one finished request. `route` is the matched route template, or `unmatched`.
    pub fn record(&self, method: &poem::http::Method, route: &str, status: u16, took: Duration) {
        let key = (method_label(method), route.to_owned(), status_class(status));
        let counter = self
            .inner
            .requests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let counter = counter.unwrap_or_else(|| {
            self.inner
                .requests
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key)
                .or_default()
                .clone()
        });
        counter.fetch_add(1, Ordering::Relaxed);

        let hist = self
            .inner
            .latency
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
            .cloned();
        let hist = hist.unwrap_or_else(|| {
            self.inner
                .latency
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(route.to_owned())
                .or_default()
                .clone()
        });
        hist.observe(took);
    }

    fn check_name(&self, name: &str) -> Result<(), MetricsError> {
        if !valid_name(name) {
            return Err(MetricsError::InvalidName(name.to_owned()));
        }
        if [REQUESTS, IN_FLIGHT, LATENCY].contains(&name) {
            return Err(MetricsError::Conflict(name.to_owned()));
        }
        Ok(())
    }

    /// A counter named `name` (registered once; later calls return the same counter).
    pub fn counter(&self, name: &str, help: &str) -> Result<Arc<AtomicU64>, MetricsError> {
        self.check_name(name)?;
        let mut extras = self.inner.extras.lock().unwrap_or_else(|p| p.into_inner());
        match extras
            .entry(name.to_owned())
            .or_insert_with(|| Extra::Counter(help.to_owned(), Arc::default()))
        {
            Extra::Counter(_, c) => Ok(c.clone()),
            Extra::Gauge(..) => Err(MetricsError::Conflict(name.to_owned())),
        }
    }

    /// A gauge named `name` (registered once; later calls return the same gauge).
    pub fn gauge(&self, name: &str, help: &str) -> Result<Arc<AtomicI64>, MetricsError> {
        self.check_name(name)?;
        let mut extras = self.inner.extras.lock().unwrap_or_else(|p| p.into_inner());
        match extras
            .entry(name.to_owned())
            .or_insert_with(|| Extra::Gauge(help.to_owned(), Arc::default()))
        {
            Extra::Gauge(_, g) => Ok(g.clone()),
            Extra::Counter(..) => Err(MetricsError::Conflict(name.to_owned())),
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let r = &self.inner;

        let _ = writeln!(
            out,
            "# HELP {REQUESTS} HTTP requests handled, by method, route and status class."
        );
        let _ = writeln!(out, "# TYPE {REQUESTS} counter");
        let requests: BTreeMap<_, u64> = r
            .requests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
            .collect();
        for ((method, route, class), n) in &requests {
            let _ = writeln!(
                out,
                "{REQUESTS}{{method=\"{method}\",route=\"{}\",status=\"{class}\"}} {n}",
                escape_label(route)
            );
        }

        let _ = writeln!(out, "# HELP {IN_FLIGHT} HTTP requests being handled now.");
        let _ = writeln!(out, "# TYPE {IN_FLIGHT} gauge");
        let _ = writeln!(out, "{IN_FLIGHT} {}", r.in_flight.load(Ordering::Relaxed));

        let _ = writeln!(out, "# HELP {LATENCY} HTTP request latency, by route.");
        let _ = writeln!(out, "# TYPE {LATENCY} histogram");
        let hists: BTreeMap<String, Arc<Histogram>> = r
            .latency
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (route, h) in &hists {
            let route = escape_label(route);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += n.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "{LATENCY}_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "{LATENCY}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "{LATENCY}_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "{LATENCY}_count{{route=\"{route}\"}} {count}");
        }

        let extras = r.extras.lock().unwrap_or_else(|p| p.into_inner());
        for (name, extra) in extras.iter() {
            let (help, kind, value) = match extra {
                Extra::Counter(h, c) => (h, "counter", c.load(Ordering::Relaxed).to_string()),
                Extra::Gauge(h, g) => (h, "gauge", g.load(Ordering::Relaxed).to_string()),
            };
            let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }

    /// A poem endpoint answering `GET /metrics` with [`Metrics::render`].
    pub fn endpoint(&self) -> impl Endpoint<Output = Response> + 'static {
        let metrics = self.clone();
        make_sync(move |_req: Request| {
            Response::builder()
                .header(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)
                .body(metrics.render())
        })
    }
}
