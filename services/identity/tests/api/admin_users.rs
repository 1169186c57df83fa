//! User administration reads (§2.10): list, get, lookup, reset-lockout, and their gates
//! (§9.8: system_admin or super_admin).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

async fn get(app: &testkit::TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    send(app, Method::GET, path, None, Some(token)).await
}

fn emails(reply: &Value) -> Vec<String> {
    reply["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["email"].as_str().expect("email").to_owned())
        .collect()
}

#[tokio::test]
async fn list_searches_filters_pages_and_sorts_by_the_allow_list() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user(&app, "ada@example.com").await;
    user_in(&app, "grace@example.com", "default", "pending").await;
    user_in(&app, "bob@example.com", "shop", "suspended").await;
    let gone = user(&app, "gone@example.com").await;
    exec(
        &app,
        &format!("update users set deleted_at = now() where id = '{gone}'"),
    )
    .await;
    user(&app, "50%_off@example.com").await;
    exec(&app, "update users set first_name = 'Grace', last_name = 'Hopper' where email = 'grace@example.com'").await;

    let (status, reply) = get(&app, "/admin/users", &token).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["total"], 5, "live users only: {reply}");
    let root = reply["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["email"] == "root@example.com")
        .expect("root");
    let codes: Vec<&str> = root["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["system_admin", "base_user"]);
    assert!(root["roles"][0]["name"].is_string());
    assert!(root.get("password_hash").is_none());

    let (_, reply) = get(&app, "/admin/users?search=HOPPER", &token).await;
    assert_eq!(emails(&reply), ["grace@example.com"]);
    let (_, reply) = get(&app, "/admin/users?search=%25_", &token).await;
    assert_eq!(
        emails(&reply),
        ["50%_off@example.com"],
        "wildcards are literal"
    );
    let (status, reply) = get(&app, "/admin/users?search=%27%20or%201%3D1%20--", &token).await;
    assert_eq!((status, reply["total"].clone()), (StatusCode::OK, json!(0)));
    let (_, reply) = get(&app, "/admin/users?status=deleted", &token).await;
    assert_eq!(emails(&reply), ["gone@example.com"]);
    let (_, reply) = get(&app, "/admin/users?status=suspended", &token).await;
    assert_eq!(emails(&reply), ["bob@example.com"]);

    let (_, reply) = get(&app, "/admin/users?sort_by=email&sort_order=asc", &token).await;
    let all = emails(&reply);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    let (_, reply) = get(
        &app,
        "/admin/users?sort_by=email&sort_order=ASC&page=2&page_size=2",
        &token,
    )
    .await;
    assert_eq!(emails(&reply), sorted[2..4]);
    assert_eq!(reply["total"], 5);
    let (_, reply) = get(
        &app,
        "/admin/users?sort_by=email&sort_order=asc&limit=1&offset=4",
        &token,
    )
    .await;
    assert_eq!(emails(&reply), sorted[4..5]);
    let (_, reply) = get(&app, "/admin/users?page=99", &token).await;
    assert_eq!(
        (reply["users"].clone(), reply["total"].clone()),
        (json!([]), json!(5))
    );

    let org = org_with(&app, "acme", ada, &[(ada, "org_member")]).await;
    let (_, reply) = get(&app, &format!("/admin/users?organization_id={org}"), &token).await;
    assert_eq!(emails(&reply), ["ada@example.com"]);
    let shop = app_row(&app, "shop", false, "active").await;
    grant(&app, ada, shop).await;
    let (_, reply) = get(&app, &format!("/admin/users?app_id={shop}"), &token).await;
    assert_eq!(emails(&reply), ["ada@example.com"]);

    for (query, field) in [
        ("sort_by=password_hash", "sort_by"),
        ("sort_by=email;drop%20table%20users", "sort_by"),
        ("sort_order=sideways", "sort_order"),
        ("page=0", "page"),
        ("page_size=-1", "page_size"),
        ("status=bogus", "status"),
        ("organization_id=nope", "organization_id"),
        ("app_id=1", "app_id"),
    ] {
        let (status, reply) = get(&app, &format!("/admin/users?{query}"), &token).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert_eq!(reply["error"]["details"]["field"], field, "{query}");
    }
    let (status, reply) = get(
        &app,
        &format!("/admin/users?search={}", "x".repeat(201)),
        &token,
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = get(&app, "/admin/users?page=abc", &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
}

#[tokio::test]
async fn gates_platform_admins_read_others_are_refused() {
    let app = start(&[]).await;
    let ada = user(&app, "ada@example.com").await;
    let plain = access_token(&app, "ada@example.com").await;
    let (_, sup) = admin(&app, "sup@example.com", "super_admin").await;
    for (method, path) in [
        (Method::GET, "/admin/users".to_owned()),
        (Method::GET, format!("/admin/users/{ada}")),
        (Method::POST, "/admin/users/lookup".to_owned()),
        (Method::POST, format!("/admin/users/{ada}/reset-lockout")),
    ] {
        let body = json!({"ids": [ada]});
        let (status, reply) = send(&app, method.clone(), &path, Some(&body), None).await;
        assert_error(status, &reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        let (status, reply) = send(&app, method.clone(), &path, Some(&body), Some(&plain)).await;
        assert_error(
            status,
            &reply,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
        );
        let (status, reply) = send(&app, method.clone(), &path, Some(&body), Some(&sup)).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {reply}");
    }
}

#[tokio::test]
async fn get_returns_the_raw_record_and_lookup_skips_deleted_users() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user_in(&app, "ada@example.com", "shop", "active").await;
    let gone = user(&app, "gone@example.com").await;
    exec(
        &app,
        &format!("update users set deleted_at = now(), status = 'deleted' where id = '{gone}'"),
    )
    .await;

    let (status, reply) = get(&app, &format!("/admin/users/{ada}"), &token).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["user"]["id"], ada.to_string());
    assert_eq!(reply["user"]["namespace"], "shop");
    assert_eq!(reply["user"]["failed_login_attempts"], 0);
    for hidden in ["password_hash", "two_factor_secret"] {
        assert!(reply["user"].get(hidden).is_none(), "{reply}");
    }
    let (status, reply) = get(&app, &format!("/admin/users/{gone}"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply["user"]["deleted_at"].is_string());
    let (status, reply) = get(&app, &format!("/admin/users/{}", Uuid::new_v4()), &token).await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    let (status, reply) = get(&app, "/admin/users/not-a-uuid", &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");

    let body = json!({"emails": ["ADA@example.com", "gone@example.com", "nobody@example.com", "junk"],
                      "ids": [gone, Uuid::new_v4()]});
    let (status, reply) = post(&app, "/admin/users/lookup", &body, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["count"], 1);
    assert_eq!(emails(&reply), ["ada@example.com"]);
    let (status, reply) = post(&app, "/admin/users/lookup", &json!({}), Some(&token)).await;
    assert_eq!(
        (status, reply),
        (StatusCode::OK, json!({"users": [], "count": 0}))
    );
    let many: Vec<String> = (0..201).map(|i| format!("u{i}@example.com")).collect();
    let (status, reply) = post(
        &app,
        "/admin/users/lookup",
        &json!({"emails": many}),
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = post(
        &app,
        "/admin/users/lookup",
        &json!({"ids": ["nope"]}),
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(reply["error"]["details"]["field"], "ids");
    let (status, reply) = post(
        &app,
        "/admin/users/lookup",
        &json!({"ids": "x"}),
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
}

#[tokio::test]
async fn reset_lockout_lets_a_locked_user_in_again() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user(&app, "ada@example.com").await;
    for _ in 0..5 {
        let (status, _) = login(&app, "ada@example.com", "Wrong1Horse").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, reply) = login(&app, "ada@example.com", PASSWORD).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    // no body and no content type (§9.22)
    let resp = reqwest::Client::new()
        .post(app.api(&format!("/admin/users/{ada}/reset-lockout")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"success": true})
    );
    let state: (Option<i32>, bool) = sqlx::query_as(
        "select failed_login_attempts, locked_until is null from users where id = $1",
    )
    .bind(ada)
    .fetch_one(&app.platform.db)
    .await
    .expect("user");
    assert_eq!(state, (Some(0), true));
    let (status, _) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, reply) = post(
        &app,
        &format!("/admin/users/{}/reset-lockout", Uuid::new_v4()),
        &json!({}),
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    assert!(
        audit_actions(&app)
            .await
            .contains(&"user.lockout_reset".to_owned())
    );
}
