//! A small app behind the edge, a peer-address injector, and response helpers.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use auth_cache::{Cache, CacheConfig};
use auth_edge::{ApiError, ClientIp, Edge, EdgeConfig, Metrics, RateLimiter, RequestId};
use poem::{
    Addr, Endpoint, EndpointExt, IntoResponse, Request, RequestParts, Response, Route, get,
    handler,
    http::{StatusCode, uri::Scheme},
    post,
    test::{TestClient, TestResponse},
    web::{Data, Json, LocalAddr, RemoteAddr},
};
use poem_openapi::{Object, OpenApi, OpenApiService, payload::Json as OJson};
use serde_json::{Value, json};

/// Counts handler calls.
#[derive(Clone, Default)]
pub struct Calls(pub Arc<AtomicUsize>);

impl Calls {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[handler]
fn health() -> Json<Value> {
    Json(json!({"status": "healthy"}))
}

#[handler]
fn echo(calls: Data<&Calls>, body: String) -> Response {
    let n = calls.0.0.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"n": n, "body": body}))
        .with_status(StatusCode::CREATED)
        .with_header("x-handler", "echo")
        .into_response()
}

/// Holds the first call of `/slow` until released.
#[derive(Clone, Default)]
pub struct Gate(pub Arc<tokio::sync::Notify>);

#[handler]
async fn slow(calls: Data<&Calls>, gate: Data<&Gate>) -> Response {
    let n = calls.0.0.fetch_add(1, Ordering::SeqCst) + 1;
    if n == 1 {
        gate.0.0.notified().await;
    }
    Json(json!({"n": n}))
        .with_status(StatusCode::CREATED)
        .into_response()
}

#[handler]
fn fail(calls: Data<&Calls>) -> poem::Result<()> {
    calls.0.0.fetch_add(1, Ordering::SeqCst);
    Err(ApiError::internal("database said: password=hunter2 is wrong").into())
}

#[handler]
fn boom() -> &'static str {
    panic!("secret panic text")
}

#[handler]
fn whoami(ip: ClientIp, id: RequestId) -> Json<Value> {
    Json(json!({"ip": ip.to_string(), "request_id": id.0}))
}

/// A poem-openapi body for parse-error tests.
#[derive(Object)]
pub struct CreateThing {
    /// Name.
    pub name: String,
    /// Count.
    pub count: i64,
}

pub struct ThingsApi;

#[OpenApi]
impl ThingsApi {
    /// Create a thing.
    #[oai(path = "/things", method = "post", operation_id = "create_thing")]
    async fn create(&self, body: OJson<CreateThing>) -> OJson<Value> {
        OJson(json!({"name": body.0.name, "count": body.0.count}))
    }
}

/// Sets the peer address from `x-test-peer` (TestClient has no socket).
pub struct Peer<E>(pub E);

impl<E: Endpoint> Endpoint for Peer<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> poem::Result<E::Output> {
        let Some(peer) = req
            .headers()
            .get("x-test-peer")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<SocketAddr>().ok())
        else {
            return self.0.call(req).await;
        };
        let (parts, body) = req.into_parts();
        let mut builder = poem::http::Request::builder()
            .method(parts.method)
            .uri(parts.uri)
            .version(parts.version);
        if let Some(h) = builder.headers_mut() {
            *h = parts.headers;
        }
        let (http_parts, ()) = builder.body(()).expect("request").into_parts();
        let rp = RequestParts::from((
            http_parts,
            LocalAddr(Addr::SocketAddr("127.0.0.1:8080".parse().expect("addr"))),
            RemoteAddr(Addr::SocketAddr(peer)),
            Scheme::HTTP,
        ));
        self.0.call(Request::from_parts(rp, body)).await
    }
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .expect("REDIS_URL must be set (e.g. redis://127.0.0.1:56379/) to run auth-edge tests")
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

pub async fn real_cache() -> Cache {
    let c = Cache::connect(CacheConfig {
        redis_url: Some(redis_url()),
        key_prefix: prefix(),
        ..CacheConfig::default()
    })
    .await
    .expect("cache");
    assert!(c.redis_up(), "redis at REDIS_URL did not answer");
    c
}

/// A cache on the test Redis (fresh prefix) whose TTLs and windows follow `clock`.
pub async fn real_cache_with_clock(clock: auth_cache::ManualClock) -> Cache {
    let c = Cache::connect_with_clock(
        CacheConfig {
            redis_url: Some(redis_url()),
            key_prefix: prefix(),
            ..CacheConfig::default()
        },
        Arc::new(clock),
    )
    .await
    .expect("cache");
    assert!(c.redis_up(), "redis at REDIS_URL did not answer");
    c
}

/// Redis configured at an address where nothing listens.
pub async fn dead_cache() -> Cache {
    Cache::connect(CacheConfig {
        redis_url: Some("redis://127.0.0.1:1/".to_owned()),
        key_prefix: prefix(),
        ..CacheConfig::default()
    })
    .await
    .expect("cache")
}

pub fn config() -> EdgeConfig {
    EdgeConfig {
        cors_origins: vec!["https://app.example.com".to_owned()],
        rate_limit_requests: 1000,
        rate_limit_window: Duration::from_secs(60),
        ..EdgeConfig::default()
    }
}

pub struct App {
    pub cli: TestClient<Peer<poem::endpoint::BoxEndpoint<'static>>>,
    pub calls: Calls,
    pub gate: Gate,
    pub metrics: Metrics,
    /// The edge's per-IP limiter (to sync it with Redis on demand).
    pub limiter: RateLimiter,
}

pub fn app_with(cfg: EdgeConfig, cache: Cache) -> App {
    let (ep, calls, gate, metrics, limiter) = build(cfg, cache);
    App {
        cli: TestClient::new(Peer(ep)),
        calls,
        gate,
        metrics,
        limiter,
    }
}

/// The wrapped app alone, to serve over a real socket.
pub fn app_with_endpoint(cfg: EdgeConfig, cache: Cache) -> poem::endpoint::BoxEndpoint<'static> {
    build(cfg, cache).0
}

fn build(
    cfg: EdgeConfig,
    cache: Cache,
) -> (
    poem::endpoint::BoxEndpoint<'static>,
    Calls,
    Gate,
    Metrics,
    RateLimiter,
) {
    let calls = Calls::default();
    let gate = Gate::default();
    let metrics = Metrics::new();
    let api = OpenApiService::new(ThingsApi, "things", "1");
    let spec = api.spec();
    let routes = Route::new()
        .at("/health", get(health))
        .at("/echo", post(echo))
        .at("/fail", post(fail))
        .at("/slow", post(slow))
        .at("/panic", get(boom))
        .at("/whoami", get(whoami))
        .at("/metrics", get(metrics.endpoint()))
        .nest("/api", api)
        .data(calls.clone())
        .data(gate.clone());
    let edge = Edge::new(cfg, cache, metrics.clone()).with_openapi_spec(&spec);
    let limiter = edge.rate_limiter();
    (edge.wrap(routes), calls, gate, metrics, limiter)
}

pub async fn app(cfg: EdgeConfig) -> App {
    app_with(cfg, real_cache().await)
}

pub fn header(resp: &TestResponse, name: &str) -> Option<String> {
    resp.0
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

pub async fn body_json(resp: TestResponse) -> Value {
    let bytes = resp.0.into_body().into_bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("JSON body")
}

/// Assert the §4.1 envelope and return it.
pub async fn envelope(resp: TestResponse, status: u16, code: &str) -> Value {
    assert_eq!(resp.0.status().as_u16(), status, "status");
    let ct = header(&resp, "content-type").expect("content-type");
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let v = body_json(resp).await;
    assert_eq!(v["error"]["code"], code, "body {v}");
    assert!(v["error"]["message"].is_string(), "body {v}");
    assert!(
        v["error"]
            .as_object()
            .expect("error object")
            .contains_key("details"),
        "details must always be present: {v}"
    );
    v
}
