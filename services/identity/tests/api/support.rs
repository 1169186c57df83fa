//! Fixtures: the service in-process, users and apps written straight to the database, and
//! a small JSON client.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;
use uuid::Uuid;

/// The password every fixture user gets.
pub const PASSWORD: &str = "Correct1Horse";

/// The identity service with base-user login allowed plus `overrides`.
pub async fn start(overrides: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("AUTH_ALLOW_BASE_USER_LOGIN", "true"),
        ("EMAIL_PROVIDER", "log"),
    ];
    vars.extend_from_slice(overrides);
    TestApp::start(identity::NAME, identity::openapi(), &vars)
        .await
        .expect("start identity")
}

/// A user row inserted directly (bcrypt cost 4), returning its id.
pub async fn user(app: &TestApp, email: &str) -> Uuid {
    user_in(app, email, "default", "active").await
}

/// A user in `pool` with `status`.
pub async fn user_in(app: &TestApp, email: &str, pool: &str, status: &str) -> Uuid {
    let hash = bcrypt::hash(PASSWORD, 4).expect("hash");
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash, first_name, last_name, status, namespace,
                            email_verified)
         values ($1, $2, 'Ada', 'Lovelace', $3, $4, true) returning id",
    )
    .bind(email)
    .bind(hash)
    .bind(status)
    .bind(pool)
    .fetch_one(&app.platform.db)
    .await
    .expect("insert user");
    role(app, id, "base_user").await;
    id
}

/// Gives `user` a base role.
pub async fn role(app: &TestApp, user: Uuid, code: &str) {
    sqlx::query(
        "insert into user_base_roles (user_id, role_id)
         select $1, id from roles where code = $2 and organization_id is null",
    )
    .bind(user)
    .bind(code)
    .execute(&app.platform.db)
    .await
    .expect("role");
}

/// An app row; returns its id.
pub async fn app_row(app: &TestApp, code: &str, auto_grant: bool, status: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into apps (code, name, status, auto_grant_on_signup, service_codes)
         values ($1, $1, $2, $3, array[$1]) returning id",
    )
    .bind(code)
    .bind(status)
    .bind(auto_grant)
    .fetch_one(&app.platform.db)
    .await
    .expect("insert app")
}

/// Grants an app to a user.
pub async fn grant(app: &TestApp, user: Uuid, app_id: Uuid) {
    sqlx::query("insert into user_apps (user_id, app_id) values ($1, $2)")
        .bind(user)
        .bind(app_id)
        .execute(&app.platform.db)
        .await
        .expect("grant");
}

/// Runs one SQL statement (test setup).
pub async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql)
        .execute(&app.platform.db)
        .await
        .expect("setup sql");
}

/// POSTs `body` as JSON (with an optional bearer); status and JSON body (`Null` if none).
pub async fn post(
    app: &TestApp,
    path: &str,
    body: &Value,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().post(app.api(path)).json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    reply(req.send().await.expect("request")).await
}

/// Sends a request with `method` and optional JSON body and bearer.
pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, app.api(path));
    if let Some(b) = body {
        req = req.json(b);
    }
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    reply(req.send().await.expect("request")).await
}

/// POSTs raw bytes with a content type.
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let req = reqwest::Client::new()
        .post(app.api(path))
        .header("content-type", content_type)
        .body(body);
    reply(req.send().await.expect("request")).await
}

async fn reply(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Logs in (base-user mode) and returns the reply.
pub async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/login",
        &serde_json::json!({"email": email, "password": password}),
        None,
    )
    .await
}

/// The access token of a successful login.
pub async fn access_token(app: &TestApp, email: &str) -> String {
    let (status, body) = login(app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Audit actions queued in the outbox, oldest first.
pub async fn audit_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "select payload->>'action' from outbox where topic like 'audit.%' order by created_at, id",
    )
    .fetch_all(&app.platform.db)
    .await
    .expect("outbox")
}

/// Asserts the contract error envelope with `code`.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"].get("details").is_some(), "{body}");
}

/// Number of rows `sql` counts.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.platform.db)
        .await
        .expect("count")
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).expect("clock")
}

/// The TOTP code of `secret` at `now + offset_steps * 30 s`.
pub fn totp_code(secret: &str, offset_steps: i64) -> String {
    let t = i64::try_from(now_secs()).expect("clock") + offset_steps * 30;
    identity::domain::totp::code_at(secret, u64::try_from(t).expect("time")).expect("code")
}

/// A 6-digit code that is valid at no step near now.
pub fn wrong_totp_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|o| totp_code(secret, o)).collect();
    (0..1000)
        .map(|i| format!("{:06}", (123_457 + i * 7919) % 1_000_000))
        .find(|c| !near.contains(c))
        .expect("a wrong code")
}

/// The secret every [`totp_user`] gets (RFC 6238's test seed).
pub const TOTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A user with active (confirmed) TOTP, written straight to the database.
pub async fn totp_user(app: &TestApp, email: &str) -> Uuid {
    let id = user(app, email).await;
    sqlx::query(
        "update users set two_factor_enabled = true, two_factor_secret = $2,
                two_factor_confirmed_at = now() where id = $1",
    )
    .bind(id)
    .bind(TOTP_SECRET)
    .execute(&app.platform.db)
    .await
    .expect("totp");
    id
}

/// The payload of a JWT, decoded without verification.
pub fn claims_of(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("payload");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64");
    serde_json::from_slice(&raw).expect("claims")
}

/// A user holding base role `role` (besides `base_user`) and its access token.
pub async fn admin(app: &TestApp, email: &str, role_code: &str) -> (Uuid, String) {
    let id = user(app, email).await;
    role(app, id, role_code).await;
    (id, access_token(app, email).await)
}

/// An active organisation owned by `owner` with `members` (user, org role), owner included
/// only if listed.
pub async fn org_with(app: &TestApp, name: &str, owner: Uuid, members: &[(Uuid, &str)]) -> Uuid {
    let org: Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id, status) values ($1, $1, $2, 'active')
         returning id",
    )
    .bind(name)
    .bind(owner)
    .fetch_one(&app.platform.db)
    .await
    .expect("org");
    for (user, role_code) in members {
        let membership: Uuid = sqlx::query_scalar(
            "insert into organization_members (user_id, organization_id, status)
             values ($1, $2, 'active') returning id",
        )
        .bind(user)
        .bind(org)
        .fetch_one(&app.platform.db)
        .await
        .expect("member");
        sqlx::query(
            "insert into organization_member_roles (membership_id, role_id)
             select $1, id from roles where code = $2 and organization_id is null",
        )
        .bind(membership)
        .bind(role_code)
        .execute(&app.platform.db)
        .await
        .expect("member role");
    }
    org
}

/// Asserts that the user's token version was bumped to `version` in the outbox, from where
/// the relay puts it into the NATS `token_versions` bucket that every replica's watcher
/// reads. (Postgres cannot refuse a deleted user's tokens: it has no row left, so the
/// refusal itself needs a working JetStream watcher and is not checked in-process.)
pub async fn assert_version_published(app: &TestApp, user: Uuid, version: i64) {
    let rows = count(
        app,
        &format!(
            "select count(*) from outbox where topic = 'token_version'
               and payload->>'user_id' = '{user}' and (payload->>'version')::bigint = {version}"
        ),
    )
    .await;
    assert_eq!(rows, 1, "token version {version} of {user} not queued");
}
