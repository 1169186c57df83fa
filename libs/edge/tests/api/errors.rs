//! The envelope for every kind of failure (§4, API-02).

use auth_edge::{ApiError, ErrorCode, GENERIC_5XX_MESSAGE};
use poem::{Body, IntoResponse};

use crate::helpers::{app, body_json, config, envelope, header};

#[tokio::test]
async fn api_error_renders_the_envelope() {
    let resp = ApiError::invalid_input("email", "bad email").into_response();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&resp.into_body().into_bytes().await.unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "INVALID_INPUT", "message": "bad email",
            "details": {"field": "email"}}})
    );
    let nf = ApiError::not_found("app not found").body();
    assert!(nf["error"]["details"].is_null());
    let five = ApiError::new(ErrorCode::SsoProviderError, "provider said: secret").body();
    assert_eq!(five["error"]["message"], GENERIC_5XX_MESSAGE);
    assert_eq!(five["error"]["code"], "SSO_PROVIDER_ERROR");
    // The 40 codes of §4.2 plus METHOD_NOT_ALLOWED [P], each UPPER_SNAKE and unique.
    assert_eq!(ErrorCode::ALL.len(), 41);
    let names: std::collections::HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), 41);
    assert!(
        names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
    );
    assert_eq!(ErrorCode::TokenRevoked.default_status(), 401);
}

#[tokio::test]
async fn handler_5xx_shows_only_the_generic_message() {
    let a = app(config()).await;
    let v = envelope(a.cli.post("/fail").send().await, 500, "INTERNAL_ERROR").await;
    assert_eq!(v["error"]["message"], GENERIC_5XX_MESSAGE);
    assert!(!v.to_string().contains("hunter2"));
}

#[tokio::test]
async fn panic_becomes_the_generic_500_envelope() {
    let a = app(config()).await;
    let resp = a
        .cli
        .get("/panic")
        .header("x-request-id", "panic-req-1")
        .send()
        .await;
    assert_eq!(
        header(&resp, "x-request-id").as_deref(),
        Some("panic-req-1")
    );
    let v = envelope(resp, 500, "INTERNAL_ERROR").await;
    assert_eq!(v["error"]["message"], GENERIC_5XX_MESSAGE);
    assert!(!v.to_string().contains("secret panic text"));
    // The server keeps serving.
    a.cli.get("/health").send().await.assert_status_is_ok();
}

#[tokio::test]
async fn unknown_path_and_wrong_method_use_the_envelope() {
    let a = app(config()).await;
    envelope(a.cli.get("/nope").send().await, 404, "NOT_FOUND").await;
    envelope(
        a.cli.delete("/health").send().await,
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    // API-02: a path with 5 000 segments is a plain 404 envelope.
    let long = "/a".repeat(5000);
    envelope(a.cli.get(long).send().await, 404, "NOT_FOUND").await;
}

// API-02: malformed JSON to a poem-openapi route.
#[tokio::test]
async fn malformed_json_is_invalid_input() {
    let a = app(config()).await;
    let resp = a
        .cli
        .post("/api/things")
        .content_type("application/json")
        .body("{\"name\": ")
        .send()
        .await;
    let v = envelope(resp, 400, "INVALID_INPUT").await;
    assert!(v["error"]["details"].is_null());
}

#[tokio::test]
async fn missing_field_is_named_in_details() {
    let a = app(config()).await;
    let resp = a
        .cli
        .post("/api/things")
        .content_type("application/json")
        .body(r#"{"count": 3}"#)
        .send()
        .await;
    let v = envelope(resp, 400, "INVALID_INPUT").await;
    assert_eq!(v["error"]["details"]["field"], "name");
}

#[tokio::test]
async fn wrong_type_is_named_in_details() {
    let a = app(config()).await;
    let resp = a
        .cli
        .post("/api/things")
        .content_type("application/json")
        .body(r#"{"name": "x", "count": "three"}"#)
        .send()
        .await;
    let v = envelope(resp, 400, "INVALID_INPUT").await;
    assert_eq!(v["error"]["details"]["field"], "count");
}

// API-02: a wrong content type.
#[tokio::test]
async fn wrong_content_type_is_invalid_input() {
    let a = app(config()).await;
    let resp = a
        .cli
        .post("/api/things")
        .content_type("text/plain")
        .body("name=x")
        .send()
        .await;
    envelope(resp, 400, "INVALID_INPUT").await;
}

#[tokio::test]
async fn valid_body_reaches_the_handler() {
    let a = app(config()).await;
    let resp = a
        .cli
        .post("/api/things")
        .content_type("application/json")
        .body(r#"{"name": "x", "count": 3}"#)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(body_json(resp).await["count"], 3);
}

// API-02: size limits are enforced (413), declared or streamed.
#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let a = app(auth_edge::EdgeConfig {
        body_limit: 1024,
        ..config()
    })
    .await;
    let declared = a
        .cli
        .post("/echo")
        .header("content-length", "2048")
        .body(vec![b'a'; 2048])
        .send()
        .await;
    envelope(declared, 413, "VALIDATION_ERROR").await;

    let chunks = futures::stream::iter(
        (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 512]))),
    );
    let streamed = a
        .cli
        .post("/echo")
        .body(Body::from_bytes_stream(chunks))
        .send()
        .await;
    envelope(streamed, 413, "VALIDATION_ERROR").await;
    assert_eq!(a.calls.get(), 0);

    a.cli
        .post("/echo")
        .body(vec![b'a'; 1024])
        .send()
        .await
        .assert_status(poem::http::StatusCode::CREATED);
}

#[tokio::test]
async fn ten_megabytes_is_413_with_the_default_limit() {
    let a = app(config()).await;
    let resp = a
        .cli
        .post("/api/things")
        .content_type("application/json")
        .body(vec![b' '; 10 * 1024 * 1024])
        .send()
        .await;
    envelope(resp, 413, "VALIDATION_ERROR").await;
}

// API-02: NUL characters never reach a handler (Postgres text cannot hold them: a 500).
#[tokio::test]
async fn nul_characters_are_400_invalid_input_before_the_handler() {
    let a = crate::helpers::app(crate::helpers::config()).await;
    let escaped = a
        .cli
        .post("/echo")
        .content_type("application/json")
        .body(r#"{"name":"a\u0000b"}"#)
        .send()
        .await;
    crate::helpers::envelope(escaped, 400, "INVALID_INPUT").await;
    let form = a
        .cli
        .post("/echo")
        .content_type("application/x-www-form-urlencoded")
        .body("client_id=%00&x=1")
        .send()
        .await;
    crate::helpers::envelope(form, 400, "INVALID_INPUT").await;
    let query = a.cli.get("/health?x=%00").send().await;
    crate::helpers::envelope(query, 400, "INVALID_INPUT").await;
    assert_eq!(a.calls.get(), 0, "the handler never ran");
    let fine = a
        .cli
        .post("/echo")
        .content_type("application/json")
        .body(r#"{"name":"a%20b"}"#)
        .send()
        .await;
    assert_eq!(fine.0.status().as_u16(), 201, "ordinary input still passes");
}

// Contract §2.7/§4.1: the token endpoint keeps the OAuth error shape for refused bodies.
#[tokio::test]
async fn refused_bodies_on_the_token_endpoint_use_the_oauth_shape() {
    let a = crate::helpers::app(crate::helpers::config()).await;
    let resp = a
        .cli
        .post("/api/v1/oauth/token")
        .content_type("application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=%00&client_secret=x")
        .send()
        .await;
    assert_eq!(resp.0.status().as_u16(), 400);
    assert_eq!(
        crate::helpers::header(&resp, "cache-control").as_deref(),
        Some("no-store")
    );
    let body = crate::helpers::body_json(resp).await;
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(body["error_description"].is_string());
}
