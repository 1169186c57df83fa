//! `/orgs/{orgId}*` self-service behind the org-permission gate (§2.9, §9.7), custom org
//! roles and the "grant only what you hold" rule (AZ-03).

use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::TestApp;
use uuid::Uuid;

use crate::helpers::{
    app, audit_actions, call, code, create_org, join, org_token, role_perms, tv, user, user_token,
};
use crate::orgs::member_roles;

/// An organisation with an `org_admin` member (plus another organisation).
pub struct Fixture {
    pub app: TestApp,
    pub admin: String,
    pub org: Uuid,
    pub other: Uuid,
    /// An `org_admin` of `org` and a token scoped to it with that role's permissions.
    pub boss: Uuid,
    pub boss_token: String,
}

/// Builds a [`Fixture`].
pub async fn fixture() -> Fixture {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Acme").await;
    let other = create_org(&app, &admin, "Other").await;
    let boss = user(&app, "boss@example.com", &["base_user"]).await;
    join(&app, org, boss, "org_admin").await;
    let perms = role_perms(&app, "org_admin").await;
    let boss_token = org_token(
        boss,
        "boss@example.com",
        org,
        &["base_user", "org_admin"],
        &perms,
    );
    Fixture {
        app,
        admin,
        org,
        other,
        boss,
        boss_token,
    }
}

/// Owned permission codes.
pub fn perms(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

#[tokio::test]
async fn the_org_gate_checks_scope_then_permission_9_7() {
    let f = fixture().await;
    let app = &f.app;
    let path = format!("/orgs/{}", f.org);
    let (status, body) = call(app, Method::GET, &path, Some(&f.boss_token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slug"], "acme");

    let (_, unscoped) = user_token(app, "u1@example.com", &["base_user"]).await;
    let (status, body) = call(app, Method::GET, &path, Some(&unscoped), None).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(body["error"]["message"], "Organization context required");

    let everything = role_perms(app, "org_admin").await;
    let elsewhere = org_token(
        f.boss,
        "boss@example.com",
        f.other,
        &["org_admin"],
        &everything,
    );
    for p in [path.clone(), "/orgs/not-a-uuid".to_owned()] {
        let (status, body) = call(app, Method::GET, &p, Some(&elsewhere), None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{p}"
        );
        assert_eq!(
            body["error"]["message"],
            "Token is not scoped to this organization"
        );
    }

    let reader = org_token(
        f.boss,
        "boss@example.com",
        f.org,
        &[],
        &perms(&["org:members:read"]),
    );
    let (status, body) = call(app, Method::GET, &path, Some(&reader), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS")
    );
    let (status, _) = call(
        app,
        Method::GET,
        &format!("{path}/members"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // system_admin passes without org context; super_admin is no bypass here
    let (status, _) = call(app, Method::GET, &path, Some(&f.admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(app, Method::GET, "/orgs/not-a-uuid", Some(&f.admin), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/orgs/{}", Uuid::new_v4()),
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "ORGANIZATION_NOT_FOUND")
    );
    let (_, sup) = user_token(app, "sup@example.com", &["super_admin"]).await;
    let (status, _) = call(app, Method::GET, &path, Some(&sup), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(app, Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    sqlx::query("update organizations set status = 'suspended' where id = $1")
        .bind(f.org)
        .execute(&app.platform.db)
        .await
        .expect("suspend");
    let (status, body) = call(app, Method::GET, &path, Some(&f.boss_token), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ORGANIZATION_SUSPENDED")
    );
}

#[tokio::test]
async fn org_admin_manages_own_org_and_never_another() {
    let f = fixture().await;
    let app = &f.app;
    let base = format!("/orgs/{}", f.org);
    let (status, body) = call(
        app,
        Method::PUT,
        &base,
        Some(&f.boss_token),
        Some(json!({"name": "Acme Two", "description": "d"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slug"], "acme-two");
    let (status, body) = call(
        app,
        Method::PUT,
        &base,
        Some(&f.boss_token),
        Some(json!({"name": "Other"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "ORGANIZATION_ALREADY_EXISTS")
    );

    let bob = user(app, "bob@example.com", &["base_user"]).await;
    let (status, _) = call(
        app,
        Method::POST,
        &format!("{base}/members"),
        Some(&f.boss_token),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = call(
        app,
        Method::GET,
        &format!("{base}/members?page_size=1&page=2"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(
        body["pagination"],
        json!({"page": 2, "page_size": 1, "total": 3})
    );
    let (status, _) = call(
        app,
        Method::PUT,
        &format!("{base}/members/{bob}/status"),
        Some(&f.boss_token),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tv(app, bob).await, 1);

    // a member of the other organisation cannot be touched through this one
    let stranger = user(app, "s@example.com", &["base_user"]).await;
    join(app, f.other, stranger, "org_member").await;
    let (status, body) = call(
        app,
        Method::DELETE,
        &format!("{base}/members/{stranger}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    assert_eq!(member_roles(app, f.other, stranger).await, ["org_member"]);
    // nor the other organisation itself
    let (status, _) = call(
        app,
        Method::POST,
        &format!("/orgs/{}/members", f.other),
        Some(&f.boss_token),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(member_roles(app, f.other, bob).await.is_empty());

    let (status, _) = call(
        app,
        Method::DELETE,
        &format!("{base}/members/{bob}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn adding_a_member_with_more_than_you_hold_is_refused_az_03() {
    let f = fixture().await;
    let app = &f.app;
    let mgr = user(app, "mgr@example.com", &["base_user"]).await;
    join(app, f.org, mgr, "org_manager").await;
    let mgr_perms = role_perms(app, "org_manager").await;
    let mgr_token = org_token(mgr, "mgr@example.com", f.org, &["org_manager"], &mgr_perms);
    let admin_role: Uuid = sqlx::query_scalar(
        "select id from roles where code = 'org_admin' and organization_id is null",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let bob = user(app, "bob@example.com", &["base_user"]).await;
    let path = format!("/orgs/{}/members", f.org);
    let (status, body) = call(
        app,
        Method::POST,
        &path,
        Some(&mgr_token),
        Some(json!({"user_id": bob, "role_ids": [admin_role]})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{body}"
    );
    assert!(
        body["error"]["details"]["permissions"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    assert!(
        member_roles(app, f.org, bob).await.is_empty(),
        "no partial write"
    );
    assert!(
        audit_actions(app)
            .await
            .contains(&"authz.escalation_denied".to_owned())
    );
    // the same manager may add with the default role
    let (status, _) = call(
        app,
        Method::POST,
        &path,
        Some(&mgr_token),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(member_roles(app, f.org, bob).await, ["org_member"]);

    // nor may it suspend or remove someone holding more than it does
    let boss_path = format!("{path}/{}", f.boss);
    let (status, body) = call(
        app,
        Method::PUT,
        &format!("{boss_path}/status"),
        Some(&mgr_token),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{body}"
    );
    let (status, _) = call(app, Method::DELETE, &boss_path, Some(&mgr_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(tv(app, f.boss).await, 0);
    assert_eq!(member_roles(app, f.org, f.boss).await, ["org_admin"]);
    let (status, _) = call(
        app,
        Method::PUT,
        &format!("{path}/{bob}/status"),
        Some(&mgr_token),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
