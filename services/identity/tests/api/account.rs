//! `DELETE /me/account` (§2.8) and bad input on every route added for user admin.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

async fn delete_me(
    app: &testkit::TestApp,
    body: Option<&Value>,
    token: &str,
) -> (StatusCode, Value) {
    send(app, Method::DELETE, "/me/account", body, Some(token)).await
}

#[tokio::test]
async fn delete_my_account_needs_password_and_confirmation_and_kills_every_token() {
    let app = start(&[]).await;
    let ada = user(&app, "ada@example.com").await;
    let access = access_token(&app, "ada@example.com").await;
    let ok = json!({"password": PASSWORD, "confirmation": "DELETE"});

    for confirmation in ["delete", "", "DELETE ", "yes"] {
        let body = json!({"password": PASSWORD, "confirmation": confirmation});
        let (status, reply) = delete_me(&app, Some(&body), &access).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert_eq!(reply["error"]["details"]["field"], "confirmation");
    }
    let (status, reply) = delete_me(&app, None, &access).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = delete_me(
        &app,
        Some(&json!({"password": "Wrong1Horse", "confirmation": "DELETE"})),
        &access,
    )
    .await;
    assert_error(
        status,
        &reply,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    let (status, reply) = send(&app, Method::DELETE, "/me/account", Some(&ok), None).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    // an acting admin cannot delete the account
    let mut claims = testkit::TestClaims::user(ada, &["base_user"]).to_json();
    claims["imp_uid"] = json!(Uuid::new_v4());
    let (status, reply) = delete_me(&app, Some(&ok), &testkit::sign_json(&claims)).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    // an owner must hand the organisation over first
    let org = org_with(&app, "acme", ada, &[(ada, "org_admin")]).await;
    let (status, reply) = delete_me(&app, Some(&ok), &access).await;
    assert_error(status, &reply, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(reply["error"]["details"]["organization_ids"], json!([org]));
    exec(&app, "delete from organizations").await;
    assert_eq!(count(&app, "select count(*) from users").await, 1);

    let (status, reply) = delete_me(&app, Some(&ok), &access).await;
    assert_eq!((status, reply), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(count(&app, "select count(*) from users").await, 0);
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
    assert_version_published(&app, ada, 1).await;
    let (status, _) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"user.self_deleted".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"login.failed".to_owned()),
        "the wrong password was counted"
    );
}

/// Malformed JSON, wrong types, unicode and injection-shaped strings, a 10 MB body: 4xx,
/// never 5xx, and no user row changes (the "bad input" rule for the admin routes).
#[tokio::test]
async fn every_user_admin_route_answers_bad_input_with_a_4xx_and_no_rows() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user(&app, "ada@example.com").await;
    let snapshot = || async {
        sqlx::query_scalar::<_, String>("select string_agg(u::text, '|' order by id) from users u")
            .fetch_one(&app.platform.db)
            .await
            .expect("snapshot")
    };
    let before = snapshot().await;
    let routes = [
        (Method::POST, "/admin/users/lookup".to_owned()),
        (Method::POST, "/admin/users/bulk-import".to_owned()),
        (Method::POST, format!("/admin/users/{ada}/impersonate")),
        (Method::DELETE, format!("/admin/users/{ada}/hard")),
        (Method::PUT, format!("/admin/users/{ada}/namespace")),
        (Method::POST, format!("/admin/users/{ada}/namespaces")),
        (Method::DELETE, "/me/account".to_owned()),
        (Method::POST, "/auth/magic-link/request".to_owned()),
        (Method::POST, "/auth/magic-link/verify".to_owned()),
        (Method::POST, "/auth/2fa/enable".to_owned()),
        (Method::POST, "/auth/2fa/disable".to_owned()),
    ];
    let big = format!("{{\"reason\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let bodies: Vec<String> = vec![
        "{".into(),
        "[1, 2]".into(),
        "\"just a string\"".into(),
        "{\"reason\": {}, \"users\": {}, \"ids\": 1, \"namespace\": null, \"password\": []}".into(),
        "{\"reason\": \"'; drop table users; --\", \"namespace\": \"../../etc\", \"confirmation\": \"\u{202e}DELETE\", \"password\": \"\u{0}\"}".into(),
        "{\"users\": [{\"email\": {\"$ne\": 1}, \"password_hash\": [\"x\"]}]}".into(),
        "{\"emails\": [\"\u{1F600}@\u{1F600}.com\"], \"ids\": [\"00000000-0000-0000-0000-00000000000g\"]}".into(),
        big,
    ];
    for (method, path) in &routes {
        for body in &bodies {
            let resp = reqwest::Client::new()
                .request(method.clone(), app.api(path))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("request");
            let status = resp.status();
            // a lookup without emails or ids is a valid, empty lookup (unknown keys are ignored)
            let empty_lookup = path == "/admin/users/lookup" && body.contains("$ne");
            assert!(
                status.is_client_error() || (empty_lookup && status == StatusCode::OK),
                "{method} {path} {:.60}: {status}",
                body
            );
            if status != StatusCode::PAYLOAD_TOO_LARGE && !empty_lookup {
                let reply: Value = resp.json().await.unwrap_or(Value::Null);
                assert!(
                    reply["error"]["code"].is_string() || reply == json!({"requires_2fa": true}),
                    "{method} {path}: {reply}"
                );
            }
        }
    }
    for path in [
        "/admin/users/%00",
        "/admin/users/'%20or%201=1",
        "/admin/users/1e3",
    ] {
        let (status, reply) = send(&app, Method::GET, path, None, Some(&token)).await;
        assert!(status.is_client_error(), "{path}: {status} {reply}");
    }
    assert_eq!(snapshot().await, before, "no user row changed");
}
