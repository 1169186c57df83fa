//! Sessions (contract §2.2): two devices, `is_current`, terminate one (its family dies),
//! cross-user attempts (SES-01 in the contract's form), admin list and terminate.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

async fn get(url: &str, bearer: &str) -> (StatusCode, Value) {
    let resp = http()
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .expect("get");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn delete(url: &str, bearer: &str) -> (StatusCode, Value) {
    let resp = http()
        .delete(url)
        .bearer_auth(bearer)
        .send()
        .await
        .expect("delete");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("bare array")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn two_devices_list_end_one_refresh_the_other() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let laptop = login_with(
        &app,
        user,
        LoginOptions {
            user_agent: Some("Laptop/1.0".into()),
            ..LoginOptions::default()
        },
    )
    .await;
    let phone = login_with(
        &app,
        user,
        LoginOptions {
            user_agent: Some("Phone/2.0".into()),
            ..LoginOptions::default()
        },
    )
    .await;
    let url = app.api("/auth/sessions");

    let (status, list) = get(&url, &laptop.tokens.access_token).await;
    assert_eq!(status, StatusCode::OK);
    let entries = list.as_array().expect("array");
    assert_eq!(entries.len(), 2);
    let mine = entries
        .iter()
        .find(|s| s["id"] == json!(laptop.session_id.to_string()))
        .expect("laptop session listed");
    assert_eq!(mine["is_current"], json!(true));
    assert_eq!(mine["device_info"], "Laptop/1.0");
    assert_eq!(mine["ip_address"], "203.0.113.9");
    let theirs = entries
        .iter()
        .find(|s| s["id"] == json!(phone.session_id.to_string()))
        .expect("phone session listed");
    assert_eq!(theirs["is_current"], json!(false));
    assert!(
        theirs["created_at"]
            .as_str()
            .expect("created_at")
            .ends_with('Z')
    );

    // refreshing on the phone does not add a session, and moves it to the top
    let (status, body) = refresh(&app.api("/auth/refresh"), &phone.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    let phone2 = pair(&body);
    let (_, list) = get(&url, &phone2.access_token).await;
    assert_eq!(
        ids(&list),
        [phone.session_id.to_string(), laptop.session_id.to_string()]
    );
    assert_eq!(list[0]["is_current"], json!(true));

    // the laptop ends the phone's session: its whole family dies
    let (status, body) = delete(
        &app.api(&format!("/auth/sessions/{}", phone.session_id)),
        &laptop.tokens.access_token,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    assert_eq!(family_rows(&app, phone.family_id).await, (0, 2));
    let (status, _) = refresh(&app.api("/auth/refresh"), &phone2.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, list) = get(&url, &laptop.tokens.access_token).await;
    assert_eq!(ids(&list), [laptop.session_id.to_string()]);
    // the laptop goes on refreshing
    let (status, _) = refresh(&app.api("/auth/refresh"), &laptop.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn another_users_session_is_403_and_untouched() {
    let app = spawn().await;
    let alice = create_user(&app, &[]).await;
    let bob = create_user(&app, &[]).await;
    let a = login(&app, alice).await;
    let b = login(&app, bob).await;
    // SES-01 prefers 404; the contract (§2.2) says 403 FORBIDDEN, which we follow
    let (status, body) = delete(
        &app.api(&format!("/auth/sessions/{}", b.session_id)),
        &a.tokens.access_token,
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(family_rows(&app, b.family_id).await, (1, 1));
    let (status, _) = refresh(&app.api("/auth/refresh"), &b.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    let denied = audit_rows(&app, "authz_denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["resource_id"], json!(b.session_id.to_string()));

    let (status, body) = delete(
        &app.api(&format!("/auth/sessions/{}", Uuid::new_v4())),
        &a.tokens.access_token,
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, body) = delete(
        &app.api("/auth/sessions/not-a-uuid"),
        &a.tokens.access_token,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let resp = http()
        .get(app.api("/auth/sessions"))
        .send()
        .await
        .expect("no bearer");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admins_list_and_terminate_a_users_sessions() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let s1 = login(&app, user).await;
    let s2 = login(&app, user).await;
    let other = create_user(&app, &[]).await;
    let o = login(&app, other).await;
    let (_, plain) = admin_token(&app, &[]).await;
    let (admin_id, admin) = admin_token(&app, &["super_admin"]).await;
    let list_url = app.api(&format!("/admin/users/{user}/sessions"));

    let (status, body) = get(&list_url, &plain).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS")
    );
    let (status, list) = get(&list_url, &admin).await;
    assert_eq!(status, StatusCode::OK);
    let mut listed = ids(&list);
    listed.sort();
    let mut expected = vec![s1.session_id.to_string(), s2.session_id.to_string()];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(list[0].get("is_current").is_none());
    // admins listing their own sessions see is_current
    let (_, own) = get(
        &app.api(&format!("/admin/users/{admin_id}/sessions")),
        &admin,
    )
    .await;
    assert_eq!(own[0]["is_current"], json!(true));
    let (status, body) = get(&app.api("/admin/users/xyz/sessions"), &admin).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );

    // a session that is not that user's
    let (status, body) = delete(
        &app.api(&format!("/admin/users/{user}/sessions/{}", o.session_id)),
        &admin,
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(family_rows(&app, o.family_id).await, (1, 1));

    let (status, body) = delete(
        &app.api(&format!("/admin/users/{user}/sessions/{}", s1.session_id)),
        &admin,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    assert_eq!(family_rows(&app, s1.family_id).await, (0, 1));
    let (_, list) = get(&list_url, &admin).await;
    assert_eq!(ids(&list), [s2.session_id.to_string()]);
}
