//! `GET /admin/audit-log`: the platform-admin gate, filters, pagination, bad input.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::{TestApp, TestClaims};
use uuid::Uuid;

use crate::helpers::app;

async fn insert(app: &TestApp, action: &str, user: Option<Uuid>, minutes_ago: i32) {
    sqlx::query(
        "insert into audit_log (user_id, action, ip_address, details, created_at)
         values ($1, $2, '203.0.113.7', '{\"k\":1}', now() - make_interval(mins => $3))",
    )
    .bind(user)
    .bind(action)
    .bind(minutes_ago)
    .execute(&app.platform.db)
    .await
    .expect("audit row");
}

async fn get(app: &TestApp, query: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{query}", app.api("/admin/audit-log")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.expect("json body"))
}

#[tokio::test]
async fn only_platform_admins_read_the_log() {
    let app = app().await;
    let (status, body) = get(&app, "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    let user = TestClaims::user(Uuid::new_v4(), &["base_user"]).sign();
    let (status, body) = get(&app, "", Some(&user)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS");
    for role in ["system_admin", "super_admin"] {
        let admin = TestClaims::user(Uuid::new_v4(), &[role]).sign();
        let (status, body) = get(&app, "", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(body["total"], 0);
    }
}

#[tokio::test]
async fn filters_and_paginates_newest_first() {
    let app = app().await;
    let actor = Uuid::new_v4();
    insert(&app, "login.success", Some(actor), 30).await;
    insert(&app, "login.failed", Some(actor), 20).await;
    insert(&app, "login.success", None, 10).await;
    let admin = TestClaims::user(Uuid::new_v4(), &["system_admin"]).sign();

    let (_, all) = get(&app, "?page_size=2", Some(&admin)).await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["page"], 1);
    assert_eq!(all["page_size"], 2);
    let entries = all["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "login.success");
    assert!(
        entries[0].get("user_id").is_none(),
        "absent actor is omitted: {}",
        entries[0]
    );
    assert_eq!(entries[1]["action"], "login.failed");
    assert_eq!(entries[1]["ip_address"], "203.0.113.7");
    assert_eq!(entries[1]["details"]["k"], 1);

    let (_, page2) = get(&app, "?page_size=2&page=2", Some(&admin)).await;
    assert_eq!(page2["entries"].as_array().map(Vec::len), Some(1));

    let (_, by_action) = get(&app, "?action=login.success", Some(&admin)).await;
    assert_eq!(by_action["total"], 2);
    let (_, by_user) = get(&app, &format!("?user_id={actor}"), Some(&admin)).await;
    assert_eq!(by_user["total"], 2);
    let since = (chrono::Utc::now() - chrono::Duration::minutes(15)).to_rfc3339();
    let (_, recent) = get(&app, &format!("?since={}", urlencode(&since)), Some(&admin)).await;
    assert_eq!(recent["total"], 1);
}

#[tokio::test]
async fn malformed_filters_are_400_invalid_input_naming_the_field() {
    let app = app().await;
    let admin = TestClaims::user(Uuid::new_v4(), &["system_admin"]).sign();
    for (query, field) in [
        ("?user_id=not-a-uuid", "user_id"),
        ("?organization_id=1%27%20or%201=1--", "organization_id"),
        ("?since=yesterday", "since"),
        ("?page=0", "page"),
        ("?page_size=100000", "page_size"),
    ] {
        let (status, body) = get(&app, query, Some(&admin)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "INVALID_INPUT", "{query}");
        assert_eq!(body["error"]["details"]["field"], field, "{query}");
    }
    let (status, body) = get(&app, "?page=abc", Some(&admin)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_INPUT");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
