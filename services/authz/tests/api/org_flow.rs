//! The walk-through (org, invitation, acceptance, custom role, next token's claims)
//! and races on organisation writes (16 concurrent requests behind a barrier).

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::Barrier;

use crate::helpers::{app, call, code, create_org, fresh_token, tv, user, user_token};

const RACERS: usize = 16;

#[tokio::test]
async fn invited_member_with_a_custom_role_sees_it_in_the_next_token() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Walkthrough").await;
    let (status, inv) = call(
        &app,
        Method::POST,
        &format!("/orgs/{org}/invitations"),
        Some(&admin),
        Some(json!({"email": "bob@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let bob = user(&app, "bob@example.com", &["base_user"]).await;
    let bob_token = fresh_token(&app, bob, "bob@example.com", &["base_user"]).await;
    let accept = format!(
        "/me/invitations/{}/accept",
        inv["id"].as_str().unwrap_or_default()
    );
    let (status, _) = call(&app, Method::POST, &accept, Some(&bob_token), None).await;
    assert_eq!(status, StatusCode::OK);

    let grants = |app: &testkit::TestApp| {
        let db = app.platform.db.clone();
        async move {
            let mut conn = db.acquire().await.expect("conn");
            auth_tokens::assemble(&mut conn, bob, None, Some(org))
                .await
                .expect("grants")
        }
    };
    let before = grants(&app).await;
    assert!(
        before.roles.contains(&"org_member".to_owned()),
        "{before:?}"
    );
    assert!(!before.permissions.contains(&"org:update".to_owned()));

    let (status, role) = call(
        &app,
        Method::POST,
        &format!("/orgs/{org}/roles"),
        Some(&admin),
        Some(json!({"code": "editor", "name": "Editor", "permission_codes": ["org:update", "org:read"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{role}");
    let (status, member) = call(
        &app,
        Method::PUT,
        &format!("/admin/organizations/{org}/members/{bob}/roles"),
        Some(&admin),
        Some(json!({"role_codes": ["editor"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(tv(&app, bob).await, 1, "the old token stops (AZ-02)");
    let after = grants(&app).await;
    assert!(after.roles.contains(&"editor".to_owned()), "{after:?}");
    assert!(after.permissions.contains(&"org:update".to_owned()));
    assert_eq!(
        after.organization.map(|o| o.slug),
        Some("walkthrough".to_owned())
    );
    let (status, _) = call(&app, Method::GET, "/me/orgs", Some(&bob_token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "token version moved on");
}

#[tokio::test]
async fn concurrent_accepts_make_one_membership() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Race").await;
    let (_, inv) = call(
        &app,
        Method::POST,
        &format!("/orgs/{org}/invitations"),
        Some(&admin),
        Some(json!({"email": "bob@example.com"})),
    )
    .await;
    let bob = user(&app, "bob@example.com", &["base_user"]).await;
    let token = fresh_token(&app, bob, "bob@example.com", &["base_user"]).await;
    let url = app.api(&format!(
        "/me/invitations/{}/accept",
        inv["id"].as_str().unwrap_or_default()
    ));
    let barrier = Arc::new(Barrier::new(RACERS));
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..RACERS {
        let (barrier, client, url, token) =
            (barrier.clone(), client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let resp = client
                .post(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("send");
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            (status, code(&body).to_owned())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (status, err) = t.await.expect("task");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::BAD_REQUEST => assert_eq!(err, "INVITE_ALREADY_USED"),
            other => panic!("unexpected {other} {err}"),
        }
    }
    assert_eq!(ok, 1);
    let memberships: i64 = sqlx::query_scalar(
        "select count(*) from organization_members where organization_id = $1 and user_id = $2",
    )
    .bind(org)
    .bind(bob)
    .fetch_one(&app.platform.db)
    .await
    .expect("count");
    assert_eq!(memberships, 1);
}

#[tokio::test]
async fn concurrent_creates_of_one_slug_make_one_org() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let url = app.api("/admin/organizations");
    let barrier = Arc::new(Barrier::new(RACERS));
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let (barrier, client, url, admin) =
            (barrier.clone(), client.clone(), url.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            // different spellings, one slug
            let name = if i % 2 == 0 {
                "Same Name"
            } else {
                "same-name!"
            };
            let resp = client
                .post(url)
                .bearer_auth(admin)
                .json(&json!({ "name": name }))
                .send()
                .await
                .expect("send");
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            (status, code(&body).to_owned())
        }));
    }
    let mut created = 0;
    for t in tasks {
        let (status, err) = t.await.expect("task");
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(err, "ORGANIZATION_ALREADY_EXISTS"),
            other => panic!("unexpected {other} {err}"),
        }
    }
    assert_eq!(created, 1);
    let (orgs, members): (i64, i64) = sqlx::query_as(
        "select (select count(*) from organizations), (select count(*) from organization_members)",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("count");
    assert_eq!((orgs, members), (1, 1), "no partial writes from the losers");
}
