//! Security headers (§7.4), CORS (§8, API-05) and request ids.

use auth_edge::EdgeConfig;

use crate::helpers::{app, config, header};

const SECURITY: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

// API-04 (Cache-Control: no-store) and §7.4 on success, errors, preflights and panics.
#[tokio::test]
async fn every_response_carries_the_security_headers_without_hsts_outside_production() {
    let a = app(config()).await;
    let responses = vec![
        a.cli.get("/health").send().await,
        a.cli.get("/nope").send().await,
        a.cli.post("/health").send().await,
        a.cli.options("/health").send().await,
        a.cli.get("/panic").send().await,
        a.cli.post("/fail").send().await,
    ];
    for resp in responses {
        for (name, value) in SECURITY {
            assert_eq!(header(&resp, name).as_deref(), Some(value), "{name}");
        }
        assert_eq!(header(&resp, "strict-transport-security"), None);
        assert_eq!(header(&resp, "x-xss-protection"), None);
    }
}

#[tokio::test]
async fn production_adds_hsts() {
    let a = app(EdgeConfig {
        production: true,
        ..config()
    })
    .await;
    for resp in [
        a.cli.get("/health").send().await,
        a.cli.get("/nope").send().await,
    ] {
        assert_eq!(
            header(&resp, "strict-transport-security").as_deref(),
            Some("max-age=31536000; includeSubDomains")
        );
    }
}

#[tokio::test]
async fn listed_origin_is_echoed_with_credentials() {
    let a = app(config()).await;
    let pre = a
        .cli
        .options("/auth/login")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    pre.assert_status(poem::http::StatusCode::NO_CONTENT);
    assert_eq!(
        header(&pre, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&pre, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        header(&pre, "access-control-allow-methods").as_deref(),
        Some("GET, POST, PUT, PATCH, DELETE, OPTIONS")
    );
    let allowed = header(&pre, "access-control-allow-headers").unwrap();
    for h in [
        "Authorization",
        "Idempotency-Key",
        "X-App-Code",
        "X-Request-ID",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert_eq!(
        header(&pre, "access-control-max-age").as_deref(),
        Some("86400")
    );

    let get = a
        .cli
        .get("/health")
        .header("origin", "https://app.example.com")
        .send()
        .await;
    assert_eq!(
        header(&get, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(header(&get, "vary").as_deref(), Some("Origin"));
}

// API-05: an unlisted origin gets no Access-Control-Allow-Origin, preflight or not.
#[tokio::test]
async fn unlisted_origin_gets_no_cors_headers() {
    let a = app(config()).await;
    for resp in [
        a.cli
            .options("/auth/refresh")
            .header("origin", "https://evil.example")
            .send()
            .await,
        a.cli
            .get("/health")
            .header("origin", "https://evil.example")
            .send()
            .await,
    ] {
        assert_eq!(header(&resp, "access-control-allow-origin"), None);
        assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    }
}

// API-05: `*` never goes together with credentials.
#[tokio::test]
async fn wildcard_origin_without_credentials() {
    let a = app(EdgeConfig {
        cors_origins: vec!["*".to_owned()],
        ..config()
    })
    .await;
    let resp = a
        .cli
        .options("/auth/login")
        .header("origin", "https://anyone.example")
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::NO_CONTENT);
    assert_eq!(
        header(&resp, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
}

#[tokio::test]
async fn wildcard_is_refused_in_production() {
    let cfg = EdgeConfig {
        production: true,
        cors_origins: vec!["*".to_owned()],
        ..config()
    };
    assert_eq!(
        cfg.validate(),
        Err(auth_edge::EdgeConfigError::WildcardCorsInProduction)
    );
    // Should an unchecked config reach the edge, `*` is ignored (fail closed).
    let a = app(cfg).await;
    let resp = a
        .cli
        .get("/health")
        .header("origin", "https://anyone.example")
        .send()
        .await;
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn request_id_is_echoed_when_sane_and_generated_otherwise() {
    let a = app(config()).await;
    let resp = a
        .cli
        .get("/whoami")
        .header("x-request-id", "client-id-123")
        .send()
        .await;
    assert_eq!(
        header(&resp, "x-request-id").as_deref(),
        Some("client-id-123")
    );
    let v = crate::helpers::body_json(resp).await;
    assert_eq!(v["request_id"], "client-id-123");

    for bad in ["has space", &"x".repeat(129)] {
        let resp = a
            .cli
            .get("/health")
            .header("x-request-id", bad)
            .send()
            .await;
        let id = header(&resp, "x-request-id").unwrap();
        assert_ne!(id, bad);
        assert!(id.len() == "20060102150405.000000-abcdef01".len(), "{id}");
    }

    let one = header(&a.cli.get("/health").send().await, "x-request-id").unwrap();
    let two = header(&a.cli.get("/health").send().await, "x-request-id").unwrap();
    assert_ne!(one, two);
    let (ts, _) = one.split_once('-').unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%d%H%M%S%.6f").is_ok(),
        "{one}"
    );
}
