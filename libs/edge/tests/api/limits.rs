//! Per-IP rate limiting (§8), client IP (API-03), Redis down (FLT-04).

use std::time::Duration;

use auth_edge::EdgeConfig;
use poem::http::StatusCode;

use crate::helpers::{app, app_with, body_json, config, dead_cache, envelope, header};

fn limited(n: u64) -> EdgeConfig {
    EdgeConfig {
        rate_limit_requests: n,
        rate_limit_window: Duration::from_secs(60),
        ..config()
    }
}

#[tokio::test]
async fn over_the_limit_is_429_with_an_http_date_retry_after() {
    let a = app(limited(3)).await;
    for _ in 0..3 {
        // /health counts too.
        a.cli.get("/health").send().await.assert_status_is_ok();
    }
    let resp = a.cli.get("/health").send().await;
    let retry = header(&resp, "retry-after").expect("Retry-After");
    let at = chrono::DateTime::parse_from_rfc2822(&retry).expect("RFC 1123 date");
    assert!(retry.ends_with(" GMT"), "{retry}");
    let ahead = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::seconds(50) && ahead <= chrono::Duration::seconds(61),
        "{retry}"
    );
    envelope(resp, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn options_preflights_are_not_counted() {
    let a = app(limited(2)).await;
    for _ in 0..10 {
        a.cli
            .options("/echo")
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }
    a.cli.get("/health").send().await.assert_status_is_ok();
    a.cli.get("/health").send().await.assert_status_is_ok();
    a.cli
        .get("/health")
        .send()
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

// API-03: rotating X-Forwarded-For from an untrusted peer does not dodge the limiter.
#[tokio::test]
async fn rotating_xff_from_an_untrusted_peer_is_still_limited() {
    let a = app(limited(3)).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = a
            .cli
            .get("/health")
            .header("x-test-peer", "203.0.113.7:4000")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .send()
            .await;
        statuses.push(r.0.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}

// API-03: behind a trusted proxy each client has its own budget, keyed on the right-most
// untrusted entry, so spoofed left-hand entries change nothing.
#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() {
    let a = app(EdgeConfig {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..limited(2)
    })
    .await;
    let via_proxy = |xff: String| {
        a.cli
            .get("/whoami")
            .header("x-test-peer", "10.0.0.5:1234")
            .header("x-forwarded-for", xff)
            .send()
    };
    let r = via_proxy("6.6.6.6, 192.0.2.10, 10.0.0.9".to_owned()).await;
    r.assert_status_is_ok();
    assert_eq!(body_json(r).await["ip"], "192.0.2.10");

    // The same client rotating its spoofed prefix is limited after 2.
    via_proxy("1.1.1.1, 192.0.2.10".to_owned())
        .await
        .assert_status_is_ok();
    via_proxy("2.2.2.2, 192.0.2.10".to_owned())
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // Another real client is not.
    via_proxy("192.0.2.11".to_owned())
        .await
        .assert_status_is_ok();
}

// FLT-04: Redis unreachable, the limiter keeps limiting from process memory.
#[tokio::test]
async fn redis_down_the_limiter_still_limits_from_memory() {
    let a = app_with(limited(2), dead_cache().await);
    a.cli.get("/health").send().await.assert_status_is_ok();
    a.cli.get("/health").send().await.assert_status_is_ok();
    let r = a.cli.get("/health").send().await;
    assert!(header(&r, "retry-after").is_some());
    envelope(r, 429, "RATE_LIMITED").await;
}

// The limiter counts in Redis under `ratelimit:<ip>`, synced from process memory.
#[tokio::test]
async fn the_counter_lives_in_redis() {
    let cache = crate::helpers::real_cache().await;
    let a = app_with(limited(100), cache.clone());
    for _ in 0..3 {
        a.cli
            .get("/health")
            .header("x-test-peer", "192.0.2.77:1")
            .send()
            .await
            .assert_status_is_ok();
    }
    // Hits reach Redis with the next sync (every 50 ms in the background, or now).
    a.limiter.sync().await;
    let client = redis::Client::open(crate::helpers::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let n: Option<String> = redis::cmd("GET")
        .arg(cache.prefixed("ratelimit:192.0.2.77"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(n.as_deref(), Some("3"));
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(crate::helpers::redis_url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn hits(a: &crate::helpers::App, peer: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let r = a
            .cli
            .get("/health")
            .header("x-test-peer", peer)
            .send()
            .await;
        statuses.push(r.0.status().as_u16());
    }
    statuses
}

// API-03 across replicas: two edges on one Redis see each other's hits after a sync.
#[tokio::test]
async fn two_replicas_see_each_others_hits_after_a_sync() {
    let cache = crate::helpers::real_cache().await;
    let a = app_with(limited(3), cache.clone());
    let b = app_with(limited(3), cache.clone());
    assert_eq!(hits(&a, "192.0.2.90:1", 2).await, [200, 200]);
    a.limiter.sync().await;
    assert_eq!(hits(&b, "192.0.2.90:1", 1).await, [200]);
    b.limiter.sync().await;
    let r = b
        .cli
        .get("/health")
        .header("x-test-peer", "192.0.2.90:1")
        .send()
        .await;
    assert!(header(&r, "retry-after").is_some());
    envelope(r, 429, "RATE_LIMITED").await;
    // Another client on the same replicas is untouched.
    assert_eq!(hits(&b, "192.0.2.91:1", 1).await, [200]);
}

// The window is fixed: once it is over (Redis key expired, clock past it), the budget is back.
#[tokio::test]
async fn the_window_resets() {
    let clock = auth_cache::ManualClock::new();
    let cache = crate::helpers::real_cache_with_clock(clock.clone()).await;
    let a = app_with(limited(2), cache.clone());
    assert_eq!(hits(&a, "192.0.2.92:1", 3).await, [200, 200, 429]);
    a.limiter.sync().await;
    let key = cache.prefixed("ratelimit:192.0.2.92");
    let mut conn = redis_conn().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(61));

    assert_eq!(hits(&a, "192.0.2.92:1", 3).await, [200, 200, 429]);
    a.limiter.sync().await;
    let n: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(n.as_deref(), Some("3"));
}

// Bounded memory: past `rate_limit_max_keys` clients, new ones are still limited exactly
// (counted in Redis per request) and the table does not grow.
#[tokio::test]
async fn a_full_table_still_limits_and_does_not_grow() {
    let a = app(EdgeConfig {
        rate_limit_max_keys: 4,
        ..limited(2)
    })
    .await;
    for i in 0..20 {
        let peer = format!("198.51.100.{i}:1");
        assert_eq!(hits(&a, &peer, 3).await, [200, 200, 429], "client {i}");
    }
    assert_eq!(a.limiter.tracked(), 4);
}

// FLT-04: with Redis down the counts survive a sync attempt (nothing is lost or doubled).
#[tokio::test]
async fn redis_down_a_sync_keeps_the_counts() {
    let a = app_with(limited(3), dead_cache().await);
    assert_eq!(hits(&a, "192.0.2.93:1", 2).await, [200, 200]);
    a.limiter.sync().await;
    assert_eq!(hits(&a, "192.0.2.93:1", 2).await, [200, 429]);
}
