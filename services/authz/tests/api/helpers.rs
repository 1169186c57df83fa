//! Shared fixtures: the app, users with base roles, tokens, small request helpers.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use testkit::{TestApp, TestClaims};
use uuid::Uuid;

/// The authz service on a fresh database.
pub async fn app() -> TestApp {
    TestApp::start(authz::NAME, authz::openapi(), &[])
        .await
        .expect("start authz")
}

/// Inserts an active user holding the given base roles; returns its id.
pub async fn user(app: &TestApp, email: &str, roles: &[&str]) -> Uuid {
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status, email_verified)
         values ($1, 'Test', 'User', 'active', true) returning id",
    )
    .bind(email)
    .fetch_one(&app.platform.db)
    .await
    .expect("insert user");
    for role in roles {
        sqlx::query(
            "insert into user_base_roles (user_id, role_id)
             select $1, id from roles where code = $2 and organization_id is null",
        )
        .bind(id)
        .bind(role)
        .execute(&app.platform.db)
        .await
        .expect("base role");
    }
    id
}

/// A user with `roles` and a signed access token claiming them.
pub async fn user_token(app: &TestApp, email: &str, roles: &[&str]) -> (Uuid, String) {
    let id = user(app, email, roles).await;
    let mut claims = TestClaims::user(id, roles);
    claims.email = email.to_owned();
    (id, claims.sign())
}

/// Sends a JSON request with an optional bearer token; returns status and JSON body
/// (`Value::Null` for an empty body).
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, app.api(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("json body: {text}"))
    };
    (status, json)
}

/// The error code of an envelope.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[allow(dead_code)]
/// Counts rows of `sql` (a `select count(*) ...` with one optional uuid bind).
pub async fn count(app: &TestApp, sql: &str, bind: Option<Uuid>) -> i64 {
    let q = sqlx::query_scalar::<_, i64>(sql);
    let q = match bind {
        Some(b) => q.bind(b),
        None => q,
    };
    q.fetch_one(&app.platform.db).await.expect("count")
}
