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

// The limiter counts in Redis under `ratelimit:<ip>` with the window as TTL.
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
    let client = redis::Client::open(crate::helpers::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let n: Option<String> = redis::cmd("GET")
        .arg(cache.prefixed("ratelimit:192.0.2.77"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(n.as_deref(), Some("3"));
}
