//! Invitations: `/orgs/{orgId}/invitations*` (§2.9) and `/me/invitations*` (§2.8, §9.22).

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::helpers::{
    app, audit_actions, call, code, create_org, join, org_token, role_perms, user, user_token,
};
use crate::orgs::member_roles;

const ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

struct Fixture {
    app: TestApp,
    org: Uuid,
    other: Uuid,
    boss_token: String,
}

async fn fixture() -> Fixture {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Acme").await;
    let other = create_org(&app, &admin, "Other").await;
    let boss = user(&app, "boss@example.com", &["base_user"]).await;
    join(&app, org, boss, "org_admin").await;
    let perms = role_perms(&app, "org_admin").await;
    let boss_token = org_token(boss, "boss@example.com", org, &["org_admin"], &perms);
    Fixture {
        app,
        org,
        other,
        boss_token,
    }
}

async fn invite(f: &Fixture, body: Value) -> (StatusCode, Value) {
    call(
        &f.app,
        Method::POST,
        &format!("/orgs/{}/invitations", f.org),
        Some(&f.boss_token),
        Some(body),
    )
    .await
}

/// A POST with no body and no Content-Type (§9.22).
async fn bare_post(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(app.api(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn invitation_status(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("select status from invitations where id = $1::uuid")
        .bind(id)
        .fetch_one(&app.platform.db)
        .await
        .expect("status")
}

#[tokio::test]
async fn invite_list_accept_then_the_membership_has_the_roles() {
    let f = fixture().await;
    let app = &f.app;
    let (_, role) = call(
        app,
        Method::POST,
        &format!("/orgs/{}/roles", f.org),
        Some(&f.boss_token),
        Some(json!({"code": "picker", "name": "Picker", "permission_codes": ["org:read"]})),
    )
    .await;
    let role_id = role["id"].as_str().unwrap_or_default().to_owned();
    let (status, inv) = invite(
        &f,
        json!({"email": " Bob@Example.com ", "role_ids": [role_id]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["email"], "bob@example.com");
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["organization_id"], f.org.to_string());
    assert_eq!(inv["role_ids"], json!([role_id]));
    assert!(inv.get("token").is_none(), "the token is never serialised");
    let invite_code = inv["code"].as_str().unwrap_or_default();
    assert!(
        invite_code.len() == 6 && invite_code.chars().all(|c| ALPHABET.contains(c)),
        "{invite_code}"
    );
    let id = inv["id"].as_str().unwrap_or_default().to_owned();
    let token: String = sqlx::query_scalar("select token from invitations where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.platform.db)
        .await
        .expect("token");
    assert!(token.len() == 64 && token.chars().all(|c| c.is_ascii_alphanumeric()));
    let expires = DateTime::parse_from_rfc3339(inv["expires_at"].as_str().unwrap_or_default())
        .expect("expires_at")
        .with_timezone(&Utc);
    let hours = (expires - Utc::now()).num_minutes();
    assert!(
        (167 * 60..=168 * 60).contains(&hours),
        "AUTH_INVITATION_EXPIRY 168h: {hours} min"
    );
    assert!(
        audit_actions(app)
            .await
            .contains(&"invitation.created".to_owned())
    );

    let (_, list) = call(
        app,
        Method::GET,
        &format!("/orgs/{}/invitations", f.org),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(list["pagination"]["total"], 1);
    assert_eq!(list["invitations"][0]["code"], invite_code);

    let bob = user(app, "bob@example.com", &["base_user"]).await;
    let (_, bob_token) = (
        bob,
        crate::helpers::fresh_token(app, bob, "bob@example.com", &["base_user"]).await,
    );
    let (status, mine) = call(app, Method::GET, "/me/invitations", Some(&bob_token), None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["invitations"][0]["id"], id.as_str());
    assert_eq!(mine["invitations"][0]["organization"]["slug"], "acme");

    let (status, body) = bare_post(app, &format!("/me/invitations/{id}/accept"), &bob_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["organization"]["id"], f.org.to_string());
    assert_eq!(member_roles(app, f.org, bob).await, ["picker"]);
    assert_eq!(invitation_status(app, &id).await, "accepted");
    let by: Option<Uuid> =
        sqlx::query_scalar("select accepted_by from invitations where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.platform.db)
            .await
            .expect("accepted_by");
    assert_eq!(by, Some(bob));
    let (status, body) = bare_post(app, &format!("/me/invitations/{id}/accept"), &bob_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVITE_ALREADY_USED")
    );
    let (_, mine) = call(app, Method::GET, "/me/invitations", Some(&bob_token), None).await;
    assert_eq!(mine["invitations"], json!([]));
    let (_, orgs) = call(app, Method::GET, "/me/orgs", Some(&bob_token), None).await;
    assert_eq!(orgs["organizations"][0]["role"], "picker");

    // an invitation without roles gives org_member
    let (_, inv) = invite(&f, json!({"email": "carol@example.com"})).await;
    let carol = user(app, "carol@example.com", &["base_user"]).await;
    let carol_token =
        crate::helpers::fresh_token(app, carol, "carol@example.com", &["base_user"]).await;
    let (status, _) = bare_post(
        app,
        &format!(
            "/me/invitations/{}/accept",
            inv["id"].as_str().unwrap_or_default()
        ),
        &carol_token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(member_roles(app, f.org, carol).await, ["org_member"]);
}

#[tokio::test]
async fn invitation_answers_are_guarded() {
    let f = fixture().await;
    let app = &f.app;
    let (_, inv) = invite(&f, json!({"email": "bob@example.com"})).await;
    let id = inv["id"].as_str().unwrap_or_default().to_owned();
    let bob = user(app, "bob@example.com", &["base_user"]).await;
    let bob_token = crate::helpers::fresh_token(app, bob, "bob@example.com", &["base_user"]).await;
    let (_, carol_token) = user_token(app, "carol@example.com", &["base_user"]).await;

    // someone else's invitation is "not found", and so is garbage
    for (path, status, err) in [
        (
            format!("/me/invitations/{id}/accept"),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            format!("/me/invitations/{id}/decline"),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            format!("/me/invitations/{}/accept", Uuid::new_v4()),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            "/me/invitations/xyz/accept".to_owned(),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
    ] {
        let (s, b) = bare_post(app, &path, &carol_token).await;
        assert_eq!((s, code(&b)), (status, err), "{path}");
    }
    assert_eq!(invitation_status(app, &id).await, "pending");

    // an unverified address cannot answer (someone may have registered it)
    sqlx::query("update users set email_verified = false where id = $1")
        .bind(bob)
        .execute(&app.platform.db)
        .await
        .expect("unverify");
    let (s, b) = bare_post(app, &format!("/me/invitations/{id}/accept"), &bob_token).await;
    assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "EMAIL_NOT_VERIFIED"));
    let (_, mine) = call(app, Method::GET, "/me/invitations", Some(&bob_token), None).await;
    assert!(
        mine["invitations"][0].get("code").is_none(),
        "no code for an unverified address"
    );
    sqlx::query("update users set email_verified = true where id = $1")
        .bind(bob)
        .execute(&app.platform.db)
        .await
        .expect("verify");

    // expired
    sqlx::query(
        "update invitations set expires_at = now() - interval '1 minute' where id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.platform.db)
    .await
    .expect("expire");
    let (s, b) = bare_post(app, &format!("/me/invitations/{id}/accept"), &bob_token).await;
    assert_eq!((s, code(&b)), (StatusCode::BAD_REQUEST, "INVITE_EXPIRED"));
    assert!(member_roles(app, f.org, bob).await.is_empty());
    let (_, list) = call(
        app,
        Method::GET,
        &format!("/orgs/{}/invitations?status=expired", f.org),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(list["invitations"][0]["status"], "expired");

    // decline, then nothing more
    let (_, inv2) = invite(&f, json!({"email": "bob@example.com"})).await;
    let id2 = inv2["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) = bare_post(app, &format!("/me/invitations/{id2}/decline"), &bob_token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(invitation_status(app, &id2).await, "declined");
    for action in ["accept", "decline"] {
        let (s, b) = bare_post(app, &format!("/me/invitations/{id2}/{action}"), &bob_token).await;
        assert_eq!(
            (s, code(&b)),
            (StatusCode::BAD_REQUEST, "INVITE_ALREADY_USED"),
            "{action}"
        );
    }
}

#[tokio::test]
async fn creating_and_revoking_invitations_validates_everything() {
    let f = fixture().await;
    let app = &f.app;
    let member = user(app, "member@example.com", &["base_user"]).await;
    join(app, f.org, member, "org_member").await;
    let admin_role: Uuid = sqlx::query_scalar(
        "select id from roles where code = 'org_admin' and organization_id is null",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let foreign: Uuid = sqlx::query_scalar(
        "insert into roles (code, name, type, is_org_role, organization_id)
         values ('theirs', 'Theirs', 'custom', true, $1) returning id",
    )
    .bind(f.other)
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let (s, _) = invite(&f, json!({"email": "dup@example.com"})).await;
    assert_eq!(s, StatusCode::CREATED);
    for (body, status, err) in [
        (
            json!({"email": "not-an-email"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "INVALID_INPUT"),
        (
            json!({"email": "x@example.com", "role_ids": [foreign]}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            json!({"email": "x@example.com", "role_ids": ["bad"]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"email": "MEMBER@example.com"}),
            StatusCode::CONFLICT,
            "CONFLICT",
        ),
        (
            json!({"email": "dup@example.com"}),
            StatusCode::CONFLICT,
            "CONFLICT",
        ),
    ] {
        let (s, b) = invite(&f, body.clone()).await;
        assert_eq!((s, code(&b)), (status, err), "{body}: {b}");
    }
    // an inviter without org_admin's permissions cannot invite as org_admin (AZ-03)
    let mgr_perms = role_perms(app, "org_manager").await;
    let mgr = org_token(
        member,
        "member@example.com",
        f.org,
        &["org_manager"],
        &mgr_perms,
    );
    let (s, b) = call(
        app,
        Method::POST,
        &format!("/orgs/{}/invitations", f.org),
        Some(&mgr),
        Some(json!({"email": "y@example.com", "role_ids": [admin_role]})),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let total: i64 = sqlx::query_scalar("select count(*) from invitations")
        .fetch_one(&app.platform.db)
        .await
        .expect("count");
    assert_eq!(total, 1, "no partial writes");

    // readers without org:members:invite do not see codes
    let reader = org_token(
        member,
        "member@example.com",
        f.org,
        &[],
        &role_perms(app, "org_member").await,
    );
    let (s, list) = call(
        app,
        Method::GET,
        &format!("/orgs/{}/invitations", f.org),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert!(list["invitations"][0].get("code").is_none());
    let id = list["invitations"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("/orgs/{}/invitations/{id}", f.org),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // revoke: another org's path is 404, then 204, then 400
    let other_boss = org_token(
        member,
        "member@example.com",
        f.other,
        &["org_admin"],
        &role_perms(app, "org_admin").await,
    );
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("/orgs/{}/invitations/{id}", f.other),
        Some(&other_boss),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let path = format!("/orgs/{}/invitations/{id}", f.org);
    let (s, _) = call(app, Method::DELETE, &path, Some(&f.boss_token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(invitation_status(app, &id).await, "revoked");
    let (s, b) = call(app, Method::DELETE, &path, Some(&f.boss_token), None).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::BAD_REQUEST, "INVITE_ALREADY_USED")
    );
    // a revoked invitation can be re-issued
    let (s, _) = invite(&f, json!({"email": "dup@example.com"})).await;
    assert_eq!(s, StatusCode::CREATED);
}
