//! Idempotent POSTs (§1): replayed verbatim from Redis, never for 5xx, off without Redis.

use auth_edge::{EdgeConfig, REPLAYED_HEADER};

use crate::helpers::{app, app_with, body_json, config, dead_cache, envelope, header};

#[tokio::test]
async fn same_key_and_body_is_replayed_verbatim() {
    let a = app(config()).await;
    let send = || {
        a.cli
            .post("/echo")
            .header("idempotency-key", "key-1")
            .body("payload")
            .send()
    };
    let first = send().await;
    first.assert_status(poem::http::StatusCode::CREATED);
    assert_eq!(header(&first, REPLAYED_HEADER), None);
    let first_handler = header(&first, "x-handler");
    let first_body = body_json(first).await;

    let second = send().await;
    second.assert_status(poem::http::StatusCode::CREATED);
    assert_eq!(header(&second, REPLAYED_HEADER).as_deref(), Some("true"));
    assert_eq!(header(&second, "x-handler"), first_handler);
    // Outer layers still decorate the replay.
    assert!(header(&second, "x-request-id").is_some());
    assert_eq!(
        header(&second, "cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(body_json(second).await, first_body);
    assert_eq!(a.calls.get(), 1, "handler ran once");
}

#[tokio::test]
async fn different_body_path_or_caller_is_a_different_key() {
    let a = app(config()).await;
    for body in ["one", "two"] {
        a.cli
            .post("/echo")
            .header("idempotency-key", "key-2")
            .body(body)
            .send()
            .await
            .assert_status(poem::http::StatusCode::CREATED);
    }
    assert_eq!(a.calls.get(), 2);
    for token in ["Bearer a", "Bearer b"] {
        let r = a
            .cli
            .post("/echo")
            .header("idempotency-key", "key-2")
            .header("authorization", token)
            .body("one")
            .send()
            .await;
        assert_eq!(header(&r, REPLAYED_HEADER), None);
    }
    assert_eq!(a.calls.get(), 4);
}

#[tokio::test]
async fn server_errors_are_not_replayed() {
    let a = app(config()).await;
    for _ in 0..2 {
        let r = a
            .cli
            .post("/fail")
            .header("idempotency-key", "key-3")
            .send()
            .await;
        assert_eq!(header(&r, REPLAYED_HEADER), None);
        envelope(r, 500, "INTERNAL_ERROR").await;
    }
    assert_eq!(a.calls.get(), 2);
}

#[tokio::test]
async fn keys_over_200_characters_are_refused() {
    let a = app(config()).await;
    let r = a
        .cli
        .post("/echo")
        .header("idempotency-key", "k".repeat(201))
        .body("x")
        .send()
        .await;
    let v = envelope(r, 400, "INVALID_INPUT").await;
    assert_eq!(v["error"]["details"]["field"], "Idempotency-Key");
    assert_eq!(a.calls.get(), 0);
    a.cli
        .post("/echo")
        .header("idempotency-key", "k".repeat(200))
        .body("x")
        .send()
        .await
        .assert_status(poem::http::StatusCode::CREATED);
}

// Replays are answered before the limiter, so they are not counted.
#[tokio::test]
async fn replays_do_not_count_against_the_rate_limit() {
    let a = app(EdgeConfig {
        rate_limit_requests: 2,
        ..config()
    })
    .await;
    for _ in 0..5 {
        a.cli
            .post("/echo")
            .header("idempotency-key", "key-4")
            .body("x")
            .send()
            .await
            .assert_status(poem::http::StatusCode::CREATED);
    }
    assert_eq!(a.calls.get(), 1);
    a.cli.get("/health").send().await.assert_status_is_ok();
}

// [P] While the first request with a key runs, a second one gets 409 instead of running twice.
#[tokio::test]
async fn concurrent_duplicate_is_refused_while_the_first_runs() {
    let a = app(config()).await;
    let send = || {
        a.cli
            .post("/slow")
            .header("idempotency-key", "key-6")
            .body("x")
            .send()
    };
    let (one, two) = (send(), send());
    tokio::pin!(one, two);
    // Whichever did not get the key finishes first, with 409; then release the other.
    let (loser, winner_is_one) = tokio::select! {
        r = &mut one => (r, false),
        r = &mut two => (r, true),
    };
    a.gate.0.notify_one();
    let winner = if winner_is_one { one.await } else { two.await };
    envelope(loser, 409, "CONFLICT").await;
    winner.assert_status(poem::http::StatusCode::CREATED);
    assert_eq!(a.calls.get(), 1);
    // The finished reply is now replayed.
    let again = send().await;
    assert_eq!(header(&again, REPLAYED_HEADER).as_deref(), Some("true"));
    assert_eq!(a.calls.get(), 1);
}

// Without Redis idempotency is simply off.
#[tokio::test]
async fn without_redis_every_post_runs() {
    let a = app_with(config(), dead_cache().await);
    for _ in 0..2 {
        let r = a
            .cli
            .post("/echo")
            .header("idempotency-key", "key-5")
            .body("x")
            .send()
            .await;
        assert_eq!(header(&r, REPLAYED_HEADER), None);
    }
    assert_eq!(a.calls.get(), 2);
}
