//! Fixtures: the service in-process (and extra replicas on the same database and NATS
//! prefix), users, logins issued the way identity issues them, and HTTP helpers.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use auth_host::{Application, Platform, api_endpoint};
use auth_settings::Settings;
use auth_tokens::{
    AppScope, DeviceInfo, Family, IssueRequest, IssuedPair, TokenPair, assemble, issue_pair,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestEnv};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The session service on port 0 with a fresh database.
pub async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

/// [`spawn`] with settings overrides.
pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
    TestApp::start(session::NAME, session::openapi(), overrides)
        .await
        .expect("start the session service")
}

/// A second instance of the service on the same database, Redis and NATS prefixes (another
/// replica, or the same service after a restart).
pub struct Replica {
    /// Its platform.
    pub platform: Platform,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Replica {
    /// Starts a replica sharing `env`.
    pub async fn start(env: &TestEnv) -> Self {
        Self::try_start(env).await.expect("start a replica")
    }

    /// Starts a replica with exactly `vars` (e.g. the test's variables with other servers).
    pub async fn start_with_vars(vars: Vec<(String, String)>) -> Self {
        Self::try_start_with(vars).await.expect("start a replica")
    }

    async fn try_start(env: &TestEnv) -> anyhow::Result<Self> {
        Self::try_start_with(env.vars()).await
    }

    async fn try_start_with(vars: Vec<(String, String)>) -> anyhow::Result<Self> {
        let settings = Settings::from_vars(vars).context("replica settings")?;
        let platform = Platform::start(settings, session::NAME).await?;
        testkit::app::wait_for_revocation_feed(&platform).await;
        let endpoint = api_endpoint(&platform, session::NAME, session::openapi());
        let app = Application::bind(platform.clone(), 0, endpoint).await?;
        let base_url = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped());
        Ok(Self {
            platform,
            base_url,
            server,
        })
    }

    /// `base_url` + `API_PREFIX` + `path`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base_url)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.platform.shutdown.cancel();
        self.server.abort();
    }
}

/// Stops a [`TestApp`]'s server and background tasks (the database stays).
pub fn stop(app: &TestApp) {
    app.platform.shutdown.cancel();
}

/// A user with the `base_user` role (plus `extra_roles`), status `active`.
pub async fn create_user(app: &TestApp, extra_roles: &[&str]) -> Uuid {
    let email = format!("{}@example.com", testkit::unique_prefix("u"));
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status, email_verified)
         values ($1, 'Ada', 'Lovelace', 'active', true) returning id",
    )
    .bind(&email)
    .fetch_one(&app.platform.db)
    .await
    .expect("insert user");
    for role in std::iter::once(&"base_user").chain(extra_roles) {
        sqlx::query(
            "insert into user_base_roles (user_id, role_id)
             select $1, id from roles where code = $2 and organization_id is null",
        )
        .bind(id)
        .bind(*role)
        .execute(&app.platform.db)
        .await
        .expect("insert base role");
    }
    id
}

/// How a test login is issued.
#[derive(Clone, Debug, Default)]
pub struct LoginOptions {
    /// Org scope.
    pub org: Option<Uuid>,
    /// App scope.
    pub app: Option<AppScope>,
    /// Remember-me lifetime.
    pub remember_me: bool,
    /// User agent stored on the session.
    pub user_agent: Option<String>,
}

/// Logs `user` in the way identity does (claims assembly, a new family and session).
pub async fn login(app: &TestApp, user: Uuid) -> IssuedPair {
    login_with(app, user, LoginOptions::default()).await
}

/// [`login`] with options.
pub async fn login_with(app: &TestApp, user: Uuid, opts: LoginOptions) -> IssuedPair {
    login_on(&app.platform, user, opts).await
}

/// [`login`] on any platform (a replica).
pub async fn login_on(platform: &Platform, user: Uuid, opts: LoginOptions) -> IssuedPair {
    let mut conn = platform.db.acquire().await.expect("connection");
    let identity: (String, i64) =
        sqlx::query_as("select email, token_version from users where id = $1")
            .bind(user)
            .fetch_one(&mut *conn)
            .await
            .expect("user");
    let grants = assemble(&mut conn, user, opts.app.as_ref(), opts.org)
        .await
        .expect("grants");
    let req = IssueRequest {
        user: auth_tokens::UserIdentity {
            id: user,
            email: identity.0,
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            display_name: String::new(),
            auth_provider: "local".into(),
            namespace: "default".into(),
            token_version: identity.1,
        },
        grants,
        app: opts.app,
        remember_me: opts.remember_me,
        device: DeviceInfo {
            ip: Some("203.0.113.9".into()),
            user_agent: opts.user_agent.or_else(|| Some("test-device/1.0".into())),
        },
        impersonator: None,
        family: Family::New,
    };
    issue_pair(&mut conn, &platform.signer, &req)
        .await
        .expect("issue pair")
}

/// An HTTP client.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// `POST /auth/refresh` with `body`; (status, JSON body).
pub async fn post_json(url: &str, body: &Value, bearer: Option<&str>) -> (StatusCode, Value) {
    let mut req = http().post(url).json(body);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// Refreshes `refresh_token` on `base` (a service base URL with prefix applied by `url`).
pub async fn refresh(url: &str, refresh_token: &str) -> (StatusCode, Value) {
    post_json(url, &json!({ "refresh_token": refresh_token }), None).await
}

/// The token pair of a 200 refresh reply.
pub fn pair(body: &Value) -> TokenPair {
    serde_json::from_value(body.clone()).expect("bare TokenResponse fields")
}

/// `error.code` of an envelope.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Whether `/auth/validate` at `url` accepts `token`.
pub async fn is_valid(url: &str, token: &str) -> bool {
    let (status, body) = post_json(url, &json!({ "token": token }), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["valid"] == json!(true)
}

/// Polls `/auth/validate` until it refuses `token`; returns how long that took, or panics
/// after `bound`.
pub async fn until_refused(url: &str, token: &str, bound: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if !is_valid(url, token).await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < bound,
            "token still accepted after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The JSON payload of a JWT (no verification).
pub fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("three segments");
    let bytes = base64url(part);
    serde_json::from_slice(&bytes).expect("json payload")
}

fn base64url(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64url") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

/// An access token for `user` with `roles`, signed by the platform's signer through a real
/// login (so `session_id` and `tv` are real).
pub async fn admin_token(app: &TestApp, roles: &[&str]) -> (Uuid, String) {
    let admin = create_user(app, roles).await;
    let issued = login(app, admin).await;
    (admin, issued.tokens.access_token)
}

/// Outbox rows of audit `action` (`audit.<action>` topic), as their JSON payloads.
pub async fn audit_rows(app: &TestApp, action: &str) -> Vec<Value> {
    sqlx::query_scalar("select payload from outbox where topic = $1 order by created_at")
        .bind(format!("audit.{action}"))
        .fetch_all(&app.platform.db)
        .await
        .expect("outbox rows")
}

/// (live, all) refresh rows of a family.
pub async fn family_rows(app: &TestApp, family: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "select count(*) filter (where revoked is not true), count(*)
           from refresh_tokens where family_id = $1",
    )
    .bind(family)
    .fetch_one(&app.platform.db)
    .await
    .expect("family rows")
}
