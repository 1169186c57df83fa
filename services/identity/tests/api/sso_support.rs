//! SSO fixtures: the real OpenID provider (`oidc-provider` under Node, from
//! `tests/support/oidc`) on a random loopback port, a browser-less user agent that follows
//! its login and consent forms, and PKCE helpers.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::TestApp;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support;

/// The redirect URI registered at the test provider (never contacted).
pub const REDIRECT: &str = "http://127.0.0.1:9/app/sso-callback";
/// Client id at the test provider.
pub const CLIENT_ID: &str = "platform-test";
/// Client secret at the test provider.
pub const CLIENT_SECRET: &str = "platform-test-secret-0123456789";

/// The running provider; killed on drop.
pub struct OidcProvider {
    /// `http://127.0.0.1:<port>`.
    pub issuer: String,
    _child: Child,
}

fn oidc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc")
}

/// Installs the provider's packages when missing (`npm ci`; `scripts/test` does it first).
fn ensure_npm() {
    let dir = oidc_dir();
    if dir.join("node_modules/oidc-provider").exists() {
        return;
    }
    let lock = dir.join(".npm-install.lock");
    if std::fs::create_dir(&lock).is_ok() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm must be installed to run the SSO tests (node 20+)");
        let _ = std::fs::remove_dir(&lock);
        assert!(status.success(), "npm ci in {} failed", dir.display());
    } else {
        for _ in 0..600 {
            if !lock.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

/// Starts the provider with `accounts` (`{"alice": {"sub", "email", ...}}`).
pub async fn start_provider(accounts: Value) -> OidcProvider {
    tokio::task::spawn_blocking(ensure_npm)
        .await
        .expect("npm install");
    let config = json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [REDIRECT],
        "accounts": accounts,
    });
    let mut child = Command::new("node")
        .arg(oidc_dir().join("server.mjs"))
        .env("OIDC_TEST_CONFIG", config.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the SSO tests");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next_line()
            .await
            .expect("provider output")
            .expect("provider exited before listening");
        if let Some(p) = line.strip_prefix("LISTENING ") {
            break p.trim().to_owned();
        }
    };
    // keep draining: a closed pipe would kill the provider at its next log line
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    OidcProvider {
        issuer: format!("http://127.0.0.1:{port}"),
        _child: child,
    }
}

/// Environment for a custom provider `acme` at `issuer`.
pub fn acme_env(issuer: &str) -> Vec<(String, String)> {
    [
        ("SSO_CUSTOM_PROVIDERS", "acme"),
        ("SSO_ACME_NAME", "Acme"),
        ("SSO_ACME_ISSUER", issuer),
        ("SSO_ACME_CLIENT_ID", CLIENT_ID),
        ("SSO_ACME_CLIENT_SECRET", CLIENT_SECRET),
        ("SSO_ACME_REDIRECT_URL", REDIRECT),
        ("SSO_ALLOWED_REDIRECT_URLS", REDIRECT),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The identity service with `vars`.
pub async fn start_app(vars: &[(String, String)]) -> TestApp {
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    support::start(&refs).await
}

/// A PKCE pair `(verifier, S256 challenge)`.
pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD
        .encode(uuid::Uuid::new_v4().as_bytes())
        .repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `POST /auth/sso/url` with PKCE; returns `(auth_url, state)`.
pub async fn sso_url(app: &TestApp, provider: &str, challenge: &str) -> (String, String) {
    let (status, body) = support::post(
        app,
        "/auth/sso/url",
        &json!({"provider": provider, "redirect_url": REDIRECT,
                "code_challenge": challenge, "code_challenge_method": "S256"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["auth_url"].as_str().expect("auth_url").to_owned(),
        body["state"].as_str().expect("state").to_owned(),
    )
}

fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = html[start..].find('"').expect("action end") + start;
    html[start..end].to_owned()
}

/// Plays the browser: opens `auth_url`, signs in as `login`, consents, and returns the
/// `(code, state)` the provider sends back to [`REDIRECT`].
pub async fn browser_login(issuer: &str, auth_url: &str, login: &str) -> (String, String) {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().as_str().starts_with(REDIRECT) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("browser");
    let page = browser.get(auth_url).send().await.expect("authorize");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("login page");
    assert!(html.contains("name=\"login\""), "{html}");
    let resp = browser
        .post(format!("{issuer}{}", form_action(&html)))
        .form(&[("login", login)])
        .send()
        .await
        .expect("login");
    let resp = if resp.status() == StatusCode::OK {
        let html = resp.text().await.expect("consent page");
        browser
            .post(format!("{issuer}{}", form_action(&html)))
            .form(&[("confirm", "yes")])
            .send()
            .await
            .expect("consent")
    } else {
        resp
    };
    assert!(resp.status().is_redirection(), "{:?}", resp.status());
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let url = reqwest::Url::parse(&location).expect("callback url");
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("{k} in {location}"))
    };
    (get("code"), get("state"))
}

/// A provider account value.
pub fn account(sub: &str, email: &str, verified: bool) -> Value {
    json!({"sub": sub, "email": email, "email_verified": verified,
           "given_name": "Alice", "family_name": "Liddell"})
}
