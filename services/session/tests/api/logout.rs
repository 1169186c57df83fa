//! `POST /auth/logout` (decisions §9.11, §9.15) and `POST /auth/logout/all`, with a second
//! replica refusing revoked access tokens (FLT-03 across instances), SES-03.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Bound on how long a revocation may take to reach another replica's watcher.
const PROPAGATION_BOUND: Duration = Duration::from_secs(5);

#[tokio::test]
async fn logout_without_bearer_revokes_the_refresh_token() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    let (status, body) = post_json(
        &app.api("/auth/logout"),
        &json!({"refresh_token": issued.tokens.refresh_token}),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (reason, terminated): (String, bool) = sqlx::query_as(
        "select r.revoked_reason, s.terminated from refresh_tokens r
           join sessions s on s.refresh_token_id = r.id where r.id = $1",
    )
    .bind(issued.refresh_token_id)
    .fetch_one(&app.platform.db)
    .await
    .expect("rows");
    assert_eq!((reason.as_str(), terminated), ("user_logout", true));
    let (status, _) = refresh(&app.api("/auth/refresh"), &issued.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // without a bearer the access token is not known, so it lives on until expiry
    assert!(is_valid(&app.api("/auth/validate"), &issued.tokens.access_token).await);
}

#[tokio::test]
async fn logout_with_bearer_also_revokes_that_access_token_everywhere() {
    let app = spawn().await;
    let replica = Replica::start(&app.env).await;
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    let other = login(&app, user).await;
    assert!(is_valid(&replica.api("/auth/validate"), &issued.tokens.access_token).await);

    let (status, body) = post_json(
        &app.api("/auth/logout"),
        &json!({"refresh_token": issued.tokens.refresh_token}),
        Some(&issued.tokens.access_token),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let stored: i64 =
        sqlx::query_scalar("select count(*) from revoked_access_tokens where jti = $1::uuid")
            .bind(&issued.access.jti)
            .fetch_one(&app.platform.db)
            .await
            .expect("revoked jti row");
    assert_eq!(stored, 1);
    until_refused(
        &app.api("/auth/validate"),
        &issued.tokens.access_token,
        PROPAGATION_BOUND,
    )
    .await;
    let took = until_refused(
        &replica.api("/auth/validate"),
        &issued.tokens.access_token,
        PROPAGATION_BOUND,
    )
    .await;
    println!("logout reached the other replica in {took:?}");
    // the user's other session is untouched
    assert!(is_valid(&app.api("/auth/validate"), &other.tokens.access_token).await);
    let (status, _) = refresh(&app.api("/auth/refresh"), &other.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_foreign_bearer_is_401_and_revokes_nothing() {
    let app = spawn().await;
    let alice = create_user(&app, &[]).await;
    let bob = create_user(&app, &[]).await;
    let a = login(&app, alice).await;
    let b = login(&app, bob).await;
    let (status, body) = post_json(
        &app.api("/auth/logout"),
        &json!({"refresh_token": b.tokens.refresh_token}),
        Some(&a.tokens.access_token),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
    assert_eq!(family_rows(&app, b.family_id).await, (1, 1));
    assert!(is_valid(&app.api("/auth/validate"), &a.tokens.access_token).await);
    let revoked: i64 = sqlx::query_scalar("select count(*) from revoked_access_tokens")
        .fetch_one(&app.platform.db)
        .await
        .expect("count");
    assert_eq!(revoked, 0);
}

#[tokio::test]
async fn unknown_or_spent_refresh_tokens_still_answer_success() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    let url = app.api("/auth/logout");
    for token in ["garbage", "a.b.c", issued.tokens.access_token.as_str()] {
        let (status, body) = post_json(&url, &json!({"refresh_token": token}), None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    }
    // twice in a row: the second finds nothing left to revoke
    for _ in 0..2 {
        let (status, _) = post_json(
            &url,
            &json!({"refresh_token": issued.tokens.refresh_token}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn logout_input_errors() {
    let app = spawn().await;
    let url = app.api("/auth/logout");
    for body in [
        json!({}),
        json!({"refresh_token": ""}),
        json!({"refresh_token": null}),
    ] {
        let (status, reply) = post_json(&url, &body, None).await;
        assert_eq!(
            (status, code(&reply)),
            (StatusCode::BAD_REQUEST, "INVALID_INPUT"),
            "{body}"
        );
    }
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    // a bearer that is present but bad is refused and nothing is revoked
    let (status, reply) = post_json(
        &url,
        &json!({"refresh_token": issued.tokens.refresh_token}),
        Some("not-a-token"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(family_rows(&app, issued.family_id).await, (1, 1));
}

#[tokio::test]
async fn logout_all_ends_everything_and_another_replica_refuses_old_tokens() {
    let app = spawn().await;
    let replica = Replica::start(&app.env).await;
    let user = create_user(&app, &[]).await;
    let laptop = login(&app, user).await;
    let phone = login(&app, user).await;
    let bystander = create_user(&app, &[]).await;
    let other = login(&app, bystander).await;
    assert!(is_valid(&replica.api("/auth/validate"), &phone.tokens.access_token).await);

    // §9.22: no body, no content type
    let resp = http()
        .post(app.api("/auth/logout/all"))
        .bearer_auth(&laptop.tokens.access_token)
        .send()
        .await
        .expect("logout all");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"success": true})
    );

    let validate = app.api("/auth/validate");
    for token in [&laptop.tokens.access_token, &phone.tokens.access_token] {
        until_refused(&validate, token, PROPAGATION_BOUND).await;
        let took = until_refused(&replica.api("/auth/validate"), token, PROPAGATION_BOUND).await;
        println!("logout-all reached the other replica in {took:?}");
    }
    for rt in [&laptop.tokens.refresh_token, &phone.tokens.refresh_token] {
        let (status, _) = refresh(&replica.api("/auth/refresh"), rt).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (tv, live_rows, live_sessions): (i64, i64, i64) = sqlx::query_as(
        "select u.token_version,
                (select count(*) from refresh_tokens where user_id = u.id and revoked is not true),
                (select count(*) from sessions where user_id = u.id and terminated is not true)
           from users u where u.id = $1",
    )
    .bind(user)
    .fetch_one(&app.platform.db)
    .await
    .expect("state");
    assert_eq!((tv, live_rows, live_sessions), (1, 0, 0));
    let audits = audit_rows(&app, "logout.all").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["user_id"], json!(user.to_string()));
    // other users are untouched
    assert!(is_valid(&validate, &other.tokens.access_token).await);

    // SES-03: a login in the same second after logout-all works; the old tokens stay dead
    let fresh = login(&app, user).await;
    assert_eq!(payload(&fresh.tokens.access_token)["tv"], json!(1));
    assert!(is_valid(&validate, &fresh.tokens.access_token).await);
    assert!(is_valid(&replica.api("/auth/validate"), &fresh.tokens.access_token).await);
    assert!(!is_valid(&validate, &laptop.tokens.access_token).await);
    let (status, _) = refresh(&app.api("/auth/refresh"), &fresh.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn logout_all_needs_a_bearer() {
    let app = spawn().await;
    let resp = http()
        .post(app.api("/auth/logout/all"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(code(&body), "UNAUTHORIZED");
}

#[tokio::test]
async fn admin_revoke_sessions_is_logout_all_for_platform_admins_super_admin_included() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    let (_, plain) = admin_token(&app, &[]).await;
    let (_, super_admin) = admin_token(&app, &["super_admin"]).await;
    let (admin_id, admin) = admin_token(&app, &["system_admin"]).await;
    let url = |id: &str| app.api(&format!("/admin/users/{id}/revoke-sessions"));
    let uid = user.to_string();
    let (got, body) = post_json(&url(&uid), &json!({}), Some(&plain)).await;
    assert_eq!(
        (got, code(&body)),
        (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS")
    );
    assert_eq!(family_rows(&app, issued.family_id).await, (1, 1));
    let (got, body) = post_json(&url("nope"), &json!({}), Some(&admin)).await;
    assert_eq!(
        (got, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let (got, body) = post_json(
        &url(&uuid::Uuid::new_v4().to_string()),
        &json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (got, code(&body)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );

    let resp = http()
        .post(url(&uid))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(family_rows(&app, issued.family_id).await, (0, 1));
    until_refused(
        &app.api("/auth/validate"),
        &issued.tokens.access_token,
        PROPAGATION_BOUND,
    )
    .await;
    let audits = audit_rows(&app, "logout.all").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["user_id"], json!(admin_id.to_string()));
    assert_eq!(audits[0]["details"]["subject_user_id"], json!(uid));

    // decision §9.8: super_admin may revoke a user's sessions too
    let other = login(&app, user).await;
    let (got, body) = post_json(&url(&uid), &json!({}), Some(&super_admin)).await;
    assert_eq!((got, body), (StatusCode::OK, json!({"success": true})));
    assert_eq!(family_rows(&app, other.family_id).await, (0, 1));
}
