//! SSO against an in-test provider whose replies each test chooses: ID-token refusals
//! (SSO-04), provider faults (SSO-10), GitHub's user-info API and Sign in with Apple's
//! form_post (SSO-11). Keys are test-only fixtures under `tests/support/keys`.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{Data, Form};
use poem::{EndpointExt, Route, Server, get, handler, post as on_post};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::sso_support::{REDIRECT, pkce, start_app};
use crate::support::{self, assert_error, count, post};

const CLIENT: &str = "fake-client";

#[derive(Default)]
struct Replies {
    token: (u16, String),
    jwks: String,
    user: Value,
    emails: Value,
    token_form: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Replies>>;

#[handler]
fn token(state: Data<&Shared>, form: Form<Vec<(String, String)>>) -> poem::Response {
    let mut s = state.0.lock().expect("lock");
    s.token_form = form.0;
    poem::Response::builder()
        .status(poem::http::StatusCode::from_u16(s.token.0).expect("status"))
        .content_type("application/json")
        .body(s.token.1.clone())
}

#[handler]
fn jwks(state: Data<&Shared>) -> poem::Response {
    let body = state.0.lock().expect("lock").jwks.clone();
    poem::Response::builder()
        .content_type("application/json")
        .body(body)
}

#[handler]
fn user_info(state: Data<&Shared>) -> poem::web::Json<Value> {
    poem::web::Json(state.0.lock().expect("lock").user.clone())
}

#[handler]
fn emails(state: Data<&Shared>) -> poem::web::Json<Value> {
    poem::web::Json(state.0.lock().expect("lock").emails.clone())
}

struct Fake {
    url: String,
    replies: Shared,
}

fn keys_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/keys")
}

async fn fake() -> Fake {
    let replies: Shared = Arc::new(Mutex::new(Replies {
        jwks: std::fs::read_to_string(keys_dir().join("idp-jwks.json")).expect("jwks"),
        ..Replies::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let acceptor = TcpAcceptor::from_tokio(listener).expect("acceptor");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("socket addr");
    let app = Route::new()
        .at("/token", on_post(token))
        .at("/jwks", get(jwks))
        .at("/user", get(user_info))
        .at("/user/emails", get(emails))
        .data(replies.clone());
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });
    Fake {
        url: format!("http://{addr}"),
        replies,
    }
}

fn idp_key() -> EncodingKey {
    let pem = std::fs::read_to_string(keys_dir().join("idp-ec.p8")).expect("key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    EncodingKey::from_ec_der(&STANDARD.decode(body).expect("der"))
}

fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &idp_key()).expect("sign")
}

fn env(provider: &str, fake: &Fake, extra: &[(&str, String)]) -> Vec<(String, String)> {
    let p = provider.to_uppercase();
    let mut vars: Vec<(String, String)> = vec![
        (format!("SSO_{p}_ENABLED"), "true".into()),
        (format!("SSO_{p}_CLIENT_ID"), CLIENT.into()),
        (format!("SSO_{p}_CLIENT_SECRET"), "fake-secret".into()),
        (format!("SSO_{p}_REDIRECT_URL"), REDIRECT.into()),
        (
            format!("SSO_{p}_AUTH_URL"),
            format!("{}/authorize", fake.url),
        ),
        (format!("SSO_{p}_TOKEN_URL"), format!("{}/token", fake.url)),
        (format!("SSO_{p}_JWKS_URL"), format!("{}/jwks", fake.url)),
        (format!("SSO_{p}_ISSUER"), fake.url.clone()),
        (
            format!("SSO_{p}_USERINFO_URL"),
            format!("{}/user", fake.url),
        ),
        (
            format!("SSO_{p}_EMAILS_URL"),
            format!("{}/user/emails", fake.url),
        ),
        ("SSO_HTTP_TIMEOUT".into(), "3s".into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    vars
}

/// Starts a flow without PKCE; returns `(state, nonce)`.
async fn begin(app: &testkit::TestApp, provider: &str) -> (String, String) {
    let (status, body) = post(
        app,
        "/auth/sso/url",
        &json!({"provider": provider, "redirect_url": REDIRECT}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = reqwest::Url::parse(body["auth_url"].as_str().expect("url")).expect("url");
    let nonce = url
        .query_pairs()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    (body["state"].as_str().expect("state").to_owned(), nonce)
}

fn good_claims(fake: &Fake, nonce: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": fake.url, "aud": CLIENT, "sub": "user-77", "exp": now + 300, "iat": now,
           "nonce": nonce, "email": "grace@idp.test", "email_verified": true,
           "given_name": "Grace", "family_name": "Hopper"})
}

fn reply_id_token(fake: &Fake, id_token: &str) {
    fake.replies.lock().expect("lock").token = (
        200,
        json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}).to_string(),
    );
}

#[tokio::test]
async fn sso_04_id_token_checks_refuse_every_forgery() {
    let fake = fake().await;
    let app = start_app(&env("google", &fake, &[])).await;
    let jwk = std::fs::read_to_string(keys_dir().join("idp-jwks.json")).expect("jwks");
    let n = serde_json::from_str::<Value>(&jwk).expect("json")["keys"][0]["x"]
        .as_str()
        .expect("x")
        .to_owned();
    type Forge = Box<dyn Fn(&Fake, &str) -> String>;
    let forgeries: Vec<(&str, Forge)> = vec![
        (
            "wrong audience",
            Box::new(|f, n| {
                let mut c = good_claims(f, n);
                c["aud"] = json!("someone-else");
                sign(&c, "test-ec")
            }),
        ),
        (
            "foreign issuer",
            Box::new(|f, n| {
                let mut c = good_claims(f, n);
                c["iss"] = json!("https://evil.test");
                sign(&c, "test-ec")
            }),
        ),
        (
            "expired",
            Box::new(|f, n| {
                let mut c = good_claims(f, n);
                c["exp"] = json!(chrono::Utc::now().timestamp() - 600);
                sign(&c, "test-ec")
            }),
        ),
        (
            "nonce mismatch",
            Box::new(|f, _| sign(&good_claims(f, "other-nonce"), "test-ec")),
        ),
        (
            "kid not in JWKS",
            Box::new(|f, n| sign(&good_claims(f, n), "unknown-kid")),
        ),
        (
            "bad signature",
            Box::new(|f, n| {
                let t = sign(&good_claims(f, n), "test-ec");
                let (head, sig) = t.rsplit_once('.').expect("jwt");
                let flipped = if sig.starts_with('A') { "B" } else { "A" };
                format!("{head}.{flipped}{}", &sig[1..])
            }),
        ),
        (
            "alg none",
            Box::new(|f, n| {
                let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"test-ec"}"#);
                let p = URL_SAFE_NO_PAD.encode(good_claims(f, n).to_string());
                format!("{h}.{p}.")
            }),
        ),
    ];
    for (name, forge) in &forgeries {
        let (state, nonce) = begin(&app, "google").await;
        reply_id_token(&fake, &forge(&fake, &nonce));
        let (status, body) = post(
            &app,
            "/auth/sso/callback",
            &json!({"provider": "google", "code": "c", "state": state}),
            None,
        )
        .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
        assert_eq!(count(&app, "select count(*) from users").await, 0, "{name}");
    }
    // HS256 "signed" with the provider's public key material (algorithm confusion)
    let (state, nonce) = begin(&app, "google").await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("test-ec".into());
    let confused = jsonwebtoken::encode(
        &header,
        &good_claims(&fake, &nonce),
        &EncodingKey::from_secret(n.as_bytes()).expect("hs key"),
    )
    .expect("hs256");
    reply_id_token(&fake, &confused);
    let (status, body) = post(
        &app,
        "/auth/sso/callback",
        &json!({"code": "c", "state": state}),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");

    // the genuine token signs in (no PKCE: the LoginResponse comes from the callback)
    let (state, nonce) = begin(&app, "google").await;
    reply_id_token(&fake, &sign(&good_claims(&fake, &nonce), "test-ec"));
    let (status, body) = post(
        &app,
        "/auth/sso/callback",
        &json!({"code": "c", "state": state}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "grace@idp.test");
    assert_eq!(body["user"]["auth_provider"], "google");
    assert!(body["tokens"]["access_token"].is_string());
    // JWT-07: the provider's ID token is no bearer token here
    let id_token = sign(&good_claims(&fake, &nonce), "test-ec");
    let (status, _) = support::send(
        &app,
        reqwest::Method::GET,
        "/auth/me",
        None,
        Some(&id_token),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sso_10_provider_faults_are_502_without_rows() {
    let fake = fake().await;
    let app = start_app(&env("google", &fake, &[])).await;
    let faults = [
        (500, "{\"error\":\"server_error\"}".to_owned()),
        (200, "{not json".to_owned()),
        (400, "{\"error\":\"invalid_grant\"}".to_owned()),
        (
            200,
            json!({"access_token": "at", "token_type": "Bearer"}).to_string(),
        ),
    ];
    for fault in faults {
        fake.replies.lock().expect("lock").token = fault.clone();
        let (state, _) = begin(&app, "google").await;
        let (status, body) = post(
            &app,
            "/auth/sso/callback",
            &json!({"code": "c", "state": state}),
            None,
        )
        .await;
        assert_error(status, &body, StatusCode::BAD_GATEWAY, "SSO_PROVIDER_ERROR");
    }
    // malformed JWKS
    let (state, nonce) = begin(&app, "google").await;
    reply_id_token(&fake, &sign(&good_claims(&fake, &nonce), "test-ec"));
    fake.replies.lock().expect("lock").jwks = "{\"keys\": 12}".into();
    let (status, body) = post(
        &app,
        "/auth/sso/callback",
        &json!({"code": "c", "state": state}),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_GATEWAY, "SSO_PROVIDER_ERROR");
    assert_eq!(count(&app, "select count(*) from users").await, 0);
    assert_eq!(
        count(&app, "select count(*) from user_auth_providers").await,
        0
    );
}

#[tokio::test]
async fn sso_11_github_keys_by_numeric_id_and_trusts_only_a_verified_primary_email() {
    let fake = fake().await;
    let app = start_app(&env("github", &fake, &[])).await;
    let existing = support::user(&app, "octo@gh.test").await;
    {
        let mut r = fake.replies.lock().expect("lock");
        r.token = (
            200,
            json!({"access_token": "gho_x", "token_type": "bearer"}).to_string(),
        );
        r.user = json!({"id": 4242, "login": "octocat", "name": "Octo Cat"});
        r.emails = json!([{"email": "octo@gh.test", "primary": true, "verified": false},
                          {"email": "else@gh.test", "primary": false, "verified": true}]);
    }
    let call = |state: String| {
        let app = &app;
        async move {
            post(
                app,
                "/auth/sso/callback",
                &json!({"code": "c", "state": state}),
                None,
            )
            .await
        }
    };
    let (state, _) = begin(&app, "github").await;
    let (status, body) = call(state).await;
    assert_error(status, &body, StatusCode::CONFLICT, "USER_ALREADY_EXISTS");
    assert_eq!(
        count(&app, "select count(*) from user_auth_providers").await,
        0
    );

    {
        let mut r = fake.replies.lock().expect("lock");
        r.emails = json!([{"email": "octo@gh.test", "primary": true, "verified": true}]);
        r.user = json!({"id": 4242, "login": "renamed-octo", "name": "Octo Cat"});
    }
    let (state, _) = begin(&app, "github").await;
    let (status, body) = call(state).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], existing.to_string());
    let key: String = sqlx::query_scalar(
        "select provider_user_id from user_auth_providers where provider = 'github'",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("link");
    assert_eq!(key, "4242");
    let form = fake.replies.lock().expect("lock").token_form.clone();
    assert!(
        form.iter()
            .any(|(k, v)| k == "client_secret" && v == "fake-secret")
    );
    assert!(form.iter().any(|(k, _)| k == "code_verifier"));
}

#[tokio::test]
async fn sso_11_apple_form_post_with_string_email_verified_and_es256_client_secret() {
    let fake = fake().await;
    let p8 = std::fs::read_to_string(keys_dir().join("apple-test.p8")).expect("p8");
    let extra = [
        ("SSO_APPLE_TEAM_ID", "TEAM123456".to_owned()),
        ("SSO_APPLE_KEY_ID", "KEY1234567".to_owned()),
        ("SSO_APPLE_PRIVATE_KEY", p8),
    ];
    let app = start_app(&env("apple", &fake, &extra)).await;
    let (verifier, challenge) = pkce();
    let (status, body) = post(
        &app,
        "/auth/sso/url",
        &json!({"provider": "apple", "redirect_url": REDIRECT,
                "code_challenge": challenge, "code_challenge_method": "S256"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let auth_url = body["auth_url"].as_str().expect("url");
    assert!(auth_url.contains("response_mode=form_post"), "{auth_url}");
    let url = reqwest::Url::parse(auth_url).expect("url");
    let nonce = url
        .query_pairs()
        .find(|(k, _)| k == "nonce")
        .expect("nonce")
        .1
        .into_owned();
    let state = body["state"].as_str().expect("state").to_owned();
    let mut claims = good_claims(&fake, &nonce);
    claims["email_verified"] = json!("true");
    claims["sub"] = json!("001234.apple.sub");
    claims.as_object_mut().expect("obj").remove("given_name");
    reply_id_token(&fake, &sign(&claims, "test-ec"));

    let user = r#"{"name":{"firstName":"Tim","lastName":"Apple"},"email":"spoof@evil.test"}"#;
    let form = format!(
        "code=c&state={state}&user={}",
        oauth2::url::form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>()
    );
    let (status, body) = support::post_raw(
        &app,
        "/auth/sso/callback",
        "application/x-www-form-urlencoded",
        form.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, login) = post(
        &app,
        "/auth/sso/exchange",
        &json!({"auth_code": body["auth_code"], "code_verifier": verifier}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["user"]["email"], "grace@idp.test");
    assert_eq!(login["user"]["email_verified"], true);
    assert_eq!(login["user"]["first_name"], "Tim");
    assert_eq!(login["user"]["auth_provider"], "apple");

    // the client secret was an ES256 JWT from the .p8 key
    let sent = fake.replies.lock().expect("lock").token_form.clone();
    let secret = sent
        .iter()
        .find(|(k, _)| k == "client_secret")
        .map(|(_, v)| v.clone())
        .expect("client_secret");
    let mut parts = secret.split('.');
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts.next().expect("h"))
            .expect("b64"),
    )
    .expect("header");
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts.next().expect("p"))
            .expect("b64"),
    )
    .expect("payload");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "KEY1234567");
    assert_eq!(payload["iss"], "TEAM123456");
    assert_eq!(payload["sub"], CLIENT);
}
