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

#[allow(dead_code)]
/// The permission codes a role grants.
pub async fn role_perms(app: &TestApp, role: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select p.code from role_permissions rp join permissions p on p.id = rp.permission_id
           join roles r on r.id = rp.role_id
          where r.code = $1 and r.organization_id is null order by p.code",
    )
    .bind(role)
    .fetch_all(&app.platform.db)
    .await
    .expect("role permissions")
}

#[allow(dead_code)]
/// A token for `user` scoped to `org` carrying `roles` and exactly `permissions`.
pub fn org_token(
    user: Uuid,
    email: &str,
    org: Uuid,
    roles: &[&str],
    permissions: &[String],
) -> String {
    let mut claims = TestClaims::user(user, roles);
    claims.email = email.to_owned();
    claims.org_id = Some(org);
    claims.permissions = permissions.to_vec();
    claims.sign()
}

#[allow(dead_code)]
/// Creates an organisation through `POST /admin/organizations`; returns its id.
pub async fn create_org(app: &TestApp, admin: &str, name: &str) -> Uuid {
    let (status, body) = call(
        app,
        Method::POST,
        "/admin/organizations",
        Some(admin),
        Some(serde_json::json!({ "name": name })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .expect("org id")
}

#[allow(dead_code)]
/// Makes `user` an active member of `org` holding the role `role` (by code).
pub async fn join(app: &TestApp, org: Uuid, user: Uuid, role: &str) {
    sqlx::query(
        "with m as (insert into organization_members (user_id, organization_id, status)
                    values ($1, $2, 'active') returning id)
         insert into organization_member_roles (membership_id, role_id)
         select m.id, r.id from m, roles r
          where r.code = $3 and (r.organization_id is null or r.organization_id = $2)
            and r.deleted_at is null",
    )
    .bind(user)
    .bind(org)
    .bind(role)
    .execute(&app.platform.db)
    .await
    .expect("join");
}

#[allow(dead_code)]
/// The user's token version.
pub async fn tv(app: &TestApp, user: Uuid) -> i64 {
    sqlx::query_scalar("select token_version from users where id = $1")
        .bind(user)
        .fetch_one(&app.platform.db)
        .await
        .expect("tv")
}

#[allow(dead_code)]
/// Audit actions queued in the outbox, oldest first.
pub async fn audit_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select substr(topic, 7) from outbox where topic like 'audit.%' order by created_at, id",
    )
    .fetch_all(&app.platform.db)
    .await
    .expect("outbox")
}

#[allow(dead_code)]
/// A token for an existing user at their current token version.
pub async fn fresh_token(app: &TestApp, user: Uuid, email: &str, roles: &[&str]) -> String {
    let mut claims = TestClaims::user(user, roles);
    claims.email = email.to_owned();
    claims.tv = u64::try_from(tv(app, user).await).unwrap_or_default();
    claims.sign()
}
