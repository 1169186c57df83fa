//! SES-02 across the four service processes: after `DELETE /auth/sessions/{id}` answers, an
//! access token issued in that session is refused (401 `TOKEN_REVOKED`) by every service within
//! the documented bound (1 s), while a token of the user's other session keeps working.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::process::TEST_API_PREFIX;
use testkit::{TestClaims, sign_json, unique_prefix};
use uuid::Uuid;

use crate::support::{Platform, client};

/// docs/DECISIONS.md: a terminated session's tokens die within this bound on other processes.
const BOUND: Duration = Duration::from_secs(1);

/// A user access token issued in session `session_id`.
fn token_in(user_id: Uuid, session_id: Uuid) -> String {
    let mut claims = TestClaims::user(user_id, &["base_user"]).to_json();
    claims["session_id"] = json!(session_id);
    sign_json(&claims)
}

/// A session row (with its refresh row) of `user_id`, as a login leaves it.
async fn open_session(platform: &Platform, user_id: Uuid) -> Uuid {
    sqlx::query_scalar(
        "with rt as (
             insert into refresh_tokens (user_id, token_hash, expires_at, family_id)
             values ($1, md5(random()::text) || md5(random()::text), now() + interval '1 day',
                     gen_random_uuid())
             returning id
         )
         insert into sessions (user_id, refresh_token_id, expires_at)
         select $1, id, now() + interval '1 day' from rt returning id",
    )
    .bind(user_id)
    .fetch_one(platform.env.db.pool())
    .await
    .expect("session")
}

/// One route of each service that a base user's valid token passes authentication on, with
/// the status such a token gets.
fn routes() -> [(&'static str, reqwest::Method, &'static str, StatusCode); 4] {
    [
        ("identity", reqwest::Method::GET, "/auth/me", StatusCode::OK),
        (
            "session",
            reqwest::Method::GET,
            "/auth/sessions",
            StatusCode::OK,
        ),
        ("authz", reqwest::Method::GET, "/me/orgs", StatusCode::OK),
        // a base user is authenticated, then not allowed
        (
            "audit",
            reqwest::Method::GET,
            "/admin/audit-log",
            StatusCode::FORBIDDEN,
        ),
    ]
}

async fn call(
    platform: &Platform,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    let resp = client()
        .request(method, platform.url(&format!("{TEST_API_PREFIX}{path}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn ses_02_a_terminated_sessions_access_token_is_refused_by_every_service() {
    let platform = Platform::start().await;
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status, email_verified)
         values ($1, 'S', 'Two', 'active', true) returning id",
    )
    .bind(format!("{}@example.com", unique_prefix("ses02")))
    .fetch_one(platform.env.db.pool())
    .await
    .expect("user");
    let doomed = open_session(&platform, user_id).await;
    let kept = open_session(&platform, user_id).await;
    let doomed_token = token_in(user_id, doomed);
    let kept_token = token_in(user_id, kept);
    for (service, method, path, expected) in routes() {
        let (status, body) = call(&platform, method, path, &doomed_token).await;
        assert_eq!(status, expected, "{service} {path}: {body}");
    }

    let (status, body) = call(
        &platform,
        reqwest::Method::DELETE,
        &format!("/auth/sessions/{doomed}"),
        &kept_token,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let ended = Instant::now();

    for (service, method, path, _) in routes() {
        loop {
            let (status, body) = call(&platform, method.clone(), path, &doomed_token).await;
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(body["error"]["code"], "TOKEN_REVOKED", "{service}: {body}");
                break;
            }
            assert!(
                ended.elapsed() < BOUND,
                "{service} {path} still answers {status} after {BOUND:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    println!(
        "every service refused the terminated session's token after {:?}",
        ended.elapsed()
    );
    for (service, method, path, expected) in routes() {
        let (status, body) = call(&platform, method, path, &kept_token).await;
        assert_eq!(status, expected, "{service} {path}: {body}");
    }
}
