//! M2M-07 (failed-secret throttle per client id and address) and the in-process client cache
//! (a revoked client stops at once, on this replica and on another).

use std::time::{Duration, Instant};

use auth_cache::Fallback;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use testkit::TestApp;

use crate::helpers::{app, audit_actions, call, user_token};
use crate::m2m::register;

/// A form grant from `ip` (via `X-Forwarded-For`; the tests trust 127.0.0.1 as a proxy).
async fn grant_from(
    app_url: &str,
    ip: &str,
    id: &str,
    secret: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = reqwest::Client::new()
        .post(app_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", ip)
        .body(format!(
            "grant_type=client_credentials&client_id={id}&client_secret={secret}"
        ))
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.expect("json"))
}

#[tokio::test]
async fn m2m_07_wrong_secrets_lock_the_pair_not_the_client_and_say_nothing_of_existence() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (_, secret) = register(&app, &admin, "billing-svc", &["invoices:read"]).await;
    let url = app.api("/oauth/token");
    let threshold = authz::throttle::THRESHOLD;
    // the same refusals for a real client and an unknown one, up to the threshold ...
    for id in ["billing-svc", "ghost-svc"] {
        for _ in 0..threshold {
            let (status, _, body) = grant_from(&url, "203.0.113.7", id, "wrong").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            assert_eq!(body["error"], "invalid_client");
        }
        // ... then 429 for that address, right secret or not, existing client or not
        for s in ["wrong", secret.as_str()] {
            let (status, headers, body) = grant_from(&url, "203.0.113.7", id, s).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{id}: {body}");
            assert_eq!(body["error"], "invalid_client");
            assert!(body["error_description"].as_str().is_some());
            assert_eq!(headers["cache-control"], "no-store");
            let retry: u64 = headers["retry-after"]
                .to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .expect("Retry-After in seconds");
            assert_eq!(retry, authz::throttle::WINDOW.as_secs());
        }
    }
    // the real client, calling from its own address, is not locked out by the guesses
    let (status, _, body) = grant_from(&url, "198.51.100.20", "billing-svc", &secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // audit: one token_denied per counted failure, one client_throttled per locked pair
    let actions = audit_actions(&app).await;
    let denied = actions.iter().filter(|a| *a == "m2m.token_denied").count();
    let throttled = actions
        .iter()
        .filter(|a| *a == "m2m.client_throttled")
        .count();
    assert_eq!(denied, 2 * usize::try_from(threshold).expect("small"));
    assert_eq!(throttled, 2);
    // the lock ends with its window (the counter's expiry, simulated by deleting it)
    let key = authz::throttle::key("billing-svc", "203.0.113.7");
    assert!(
        app.platform
            .cache
            .del(&key, Fallback::Memory)
            .await
            .expect("del")
    );
    let (status, _, body) = grant_from(&url, "203.0.113.7", "billing-svc", &secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn m2m_07_a_thousand_guesses_meet_429_after_the_threshold() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (_, secret) = register(&app, &admin, "target-svc", &["a"]).await;
    let url = app.api("/oauth/token");
    let mut statuses = Vec::new();
    for i in 0..1000 {
        let guess = format!("{secret}{i}");
        let (status, _, _) = grant_from(&url, "192.0.2.66", "target-svc", &guess).await;
        statuses.push(status);
    }
    let threshold = usize::try_from(authz::throttle::THRESHOLD).expect("small");
    assert!(
        statuses[..threshold]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED)
    );
    assert!(
        statuses[threshold..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    );
    let denied = audit_actions(&app)
        .await
        .iter()
        .filter(|a| *a == "m2m.token_denied")
        .count();
    assert_eq!(
        denied, threshold,
        "refused-while-locked attempts are not counted"
    );
}

async fn revoke(app: &TestApp, admin: &str, row_id: &str) {
    let (status, body) = call(
        app,
        Method::DELETE,
        &format!("/admin/m2m-clients/{row_id}"),
        Some(admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn a_revoked_client_stops_at_once_although_its_grants_are_cached() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (row_id, secret) = register(&app, &admin, "cached-svc", &["a"]).await;
    let url = app.api("/oauth/token");
    for _ in 0..3 {
        let (status, _, body) = grant_from(&url, "10.0.0.1", "cached-svc", &secret).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    revoke(&app, &admin, &row_id).await;
    let (status, _, body) = grant_from(&url, "10.0.0.1", "cached-svc", &secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// A second replica of `app` (same database, Redis and NATS prefixes) on its own port.
async fn replica(app: &TestApp) -> (auth_host::Platform, String) {
    let settings = auth_settings::Settings::from_vars(app.env.vars()).expect("settings");
    let platform = auth_host::Platform::start(settings, authz::NAME)
        .await
        .expect("platform");
    let endpoint = auth_host::api_endpoint(&platform, authz::NAME, authz::openapi());
    let server = auth_host::Application::bind(platform.clone(), 0, endpoint)
        .await
        .expect("bind");
    let url = format!(
        "http://127.0.0.1:{}{}/oauth/token",
        server.port(),
        testkit::process::TEST_API_PREFIX
    );
    tokio::spawn(server.run_until_stopped());
    (platform, url)
}

#[tokio::test]
async fn a_revoke_on_one_replica_reaches_the_cache_of_another_over_nats() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (row_id, secret) = register(&app, &admin, "shared-svc", &["a"]).await;
    let (other, other_url) = replica(&app).await;
    for _ in 0..3 {
        let (status, _, body) = grant_from(&other_url, "10.0.0.2", "shared-svc", &secret).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    revoke(&app, &admin, &row_id).await;
    // the announcement travels over NATS; well inside the cache's 5 s bound
    let started = Instant::now();
    loop {
        let (status, _, _) = grant_from(&other_url, "10.0.0.2", "shared-svc", &secret).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the other replica still grants a revoked client"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(authz::clients::TTL > Duration::from_secs(1));
    other.shutdown.cancel();
}
