//! poem extractor and poem-openapi security schemes: status, envelope and headers a client
//! sees (JWT-10, JWT-12, contract §4.1).

use std::sync::Arc;

use jwt_verify::poem::{Authenticated, BearerAuth, BearerPrincipal, BearerService};
use jwt_verify::{Principal, RevocationSource, StaticRevocation, Verifier};
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use poem::{Endpoint, EndpointExt, Route, get, handler};
use poem_openapi::payload::PlainText;
use poem_openapi::{OpenApi, OpenApiService};

use crate::support::*;

#[handler]
fn plain(Authenticated(claims): Authenticated) -> String {
    claims.uid.clone()
}

struct Api;

#[OpenApi]
impl Api {
    /// Who am I.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> PlainText<String> {
        PlainText(auth.0.email.clone())
    }

    /// Users or services.
    #[oai(path = "/any", method = "get")]
    async fn any(&self, auth: BearerPrincipal) -> PlainText<String> {
        let kind = match &auth.0 {
            Principal::User(_) => "user",
            Principal::Service(_) => "service",
        };
        PlainText(format!("{kind}:{}", auth.0.subject()))
    }

    /// Services only.
    #[oai(path = "/svc", method = "get")]
    async fn svc(&self, auth: BearerService) -> PlainText<String> {
        PlainText(auth.0.client_id.clone())
    }
}

fn app() -> (impl Endpoint, Arc<StaticRevocation>) {
    let clock = clock();
    let rev = Arc::new(StaticRevocation::new());
    let v = Verifier::new(config(&clock), rev.clone() as Arc<dyn RevocationSource>).unwrap();
    let api = OpenApiService::new(Api, "test", "1");
    let route = Route::new()
        .at("/plain", get(plain))
        .nest("/api", api)
        .data(v);
    (route, rev)
}

async fn assert_error(resp: TestResponse, status: StatusCode, code: &str, www: Option<&str>) {
    resp.assert_status(status);
    resp.assert_content_type("application/json");
    match www {
        Some(v) => resp.assert_header("www-authenticate", v),
        None => resp.assert_header_is_not_exist("www-authenticate"),
    }
    let body = resp.json().await;
    let error = body.value().object().get("error").object();
    error.get("code").assert_string(code);
    error.get("details").assert_null();
    assert!(!error.get("message").string().is_empty());
}

const INVALID: Option<&str> = Some("Bearer error=\"invalid_token\"");

#[tokio::test]
async fn valid_tokens_pass_on_every_extractor() {
    let (ep, _) = app();
    let cli = TestClient::new(ep);
    let bearer = format!("Bearer {}", sign(&access_claims(), ACCESS));
    let resp = cli
        .get("/plain")
        .header("Authorization", &bearer)
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_text(USER).await;
    cli.get("/api/me")
        .header("Authorization", &bearer)
        .send()
        .await
        .assert_text("ada@example.com")
        .await;
    cli.get("/api/any")
        .header("Authorization", &bearer)
        .send()
        .await
        .assert_text(format!("user:{USER}"))
        .await;
    let svc = format!("bearer {}", sign(&service_claims(), ACCESS));
    cli.get("/api/any")
        .header("Authorization", &svc)
        .send()
        .await
        .assert_text("service:client-42")
        .await;
    cli.get("/api/svc")
        .header("Authorization", &svc)
        .send()
        .await
        .assert_text("client-42")
        .await;
    assert_error(
        cli.get("/api/svc")
            .header("Authorization", &bearer)
            .send()
            .await,
        StatusCode::UNAUTHORIZED,
        "TOKEN_INVALID",
        INVALID,
    )
    .await;
}

#[tokio::test]
async fn missing_malformed_expired_and_revoked_tokens_get_the_contract_envelope() {
    let (ep, rev) = app();
    let cli = TestClient::new(ep);
    for path in ["/plain", "/api/me", "/api/any"] {
        let resp = cli.get(path).send().await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
        resp.assert_header("www-authenticate", "Bearer");
        resp.assert_json(serde_json::json!({"error": {"code": "UNAUTHORIZED", "message": "Missing authorization token", "details": null}})).await;

        for bad in ["Bearer", "Bearer  x", "Basic dXNlcjpwYXNz", "Bearer a.b.c"] {
            assert_error(
                cli.get(path).header("Authorization", bad).send().await,
                StatusCode::UNAUTHORIZED,
                "TOKEN_INVALID",
                INVALID,
            )
            .await;
        }
        let mut expired = access_claims();
        expired.exp = NOW - 3600;
        let resp = cli
            .get(path)
            .header(
                "Authorization",
                format!("Bearer {}", sign(&expired, ACCESS)),
            )
            .send()
            .await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED", INVALID).await;
    }
    let bearer = format!("Bearer {}", sign(&access_claims(), ACCESS));
    rev.set_token_version(USER, 99);
    assert_error(
        cli.get("/api/me")
            .header("Authorization", &bearer)
            .send()
            .await,
        StatusCode::UNAUTHORIZED,
        "TOKEN_REVOKED",
        INVALID,
    )
    .await;
    rev.set_unavailable(true);
    let resp = cli
        .get("/api/me")
        .header("Authorization", &bearer)
        .send()
        .await;
    resp.assert_header("retry-after", "1");
    assert_error(
        resp,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        None,
    )
    .await;
}

#[tokio::test]
async fn jwt_12_query_string_tokens_are_ignored() {
    let (ep, _) = app();
    let cli = TestClient::new(ep);
    let token = sign(&access_claims(), ACCESS);
    for path in ["/plain", "/api/me"] {
        let resp = cli.get(path).query("access_token", &token).send().await;
        assert_error(
            resp,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            Some("Bearer"),
        )
        .await;
    }
    // Two Authorization headers are ambiguous: refused.
    let bearer = format!("Bearer {token}");
    let resp = cli
        .get("/api/me")
        .header("Authorization", &bearer)
        .header("Authorization", &bearer)
        .send()
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "TOKEN_INVALID", INVALID).await;
}

#[tokio::test]
async fn a_route_without_a_verifier_is_a_500_not_an_open_door() {
    let cli = TestClient::new(Route::new().at("/plain", get(plain)));
    let bearer = format!("Bearer {}", sign(&access_claims(), ACCESS));
    assert_error(
        cli.get("/plain")
            .header("Authorization", bearer)
            .send()
            .await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        None,
    )
    .await;
}

#[test]
fn the_openapi_document_declares_a_bearer_jwt_scheme() {
    let spec: serde_json::Value =
        serde_json::from_str(&OpenApiService::new(Api, "test", "1").spec()).unwrap();
    assert_eq!(
        spec["components"]["securitySchemes"]["BearerAuth"],
        serde_json::json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "Access token (HS256 JWT) sent as `Authorization: Bearer <token>`."})
    );
    assert_eq!(
        spec["paths"]["/me"]["get"]["security"],
        serde_json::json!([{"BearerAuth": []}])
    );
}
