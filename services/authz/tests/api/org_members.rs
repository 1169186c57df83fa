//! `/admin/organizations/{orgId}/members*` (§2.10, §9.6), `/admin/users/{userId}/organizations`
//! and `/me/orgs` (§9.19).

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    app, audit_actions, call, code, create_org, fresh_token, join, tv, user, user_token,
};
use crate::orgs::member_roles;

#[tokio::test]
async fn admin_member_management_keeps_the_owner() {
    let app = app().await;
    let (owner, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Hooli").await;
    let other = create_org(&app, &admin, "Pied Piper").await;
    let bob = user(&app, "bob@example.com", &["base_user"]).await;
    let members = format!("/admin/organizations/{org}/members");

    let (status, body) = call(
        &app,
        Method::POST,
        &members,
        Some(&admin),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true}));
    assert_eq!(member_roles(&app, org, bob).await, ["org_member"]);
    let (status, body) = call(
        &app,
        Method::POST,
        &members,
        Some(&admin),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "CONFLICT"));

    // another org's custom role, an unknown user, a malformed id: refused, nothing written
    let foreign: Uuid = sqlx::query_scalar(
        "insert into roles (code, name, type, is_org_role, organization_id)
         values ('pp_dev', 'Dev', 'custom', true, $1) returning id",
    )
    .bind(other)
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let carol = user(&app, "carol@example.com", &["base_user"]).await;
    for (body, status, err) in [
        (
            json!({"user_id": carol, "role_ids": [foreign]}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            json!({"user_id": carol, "role_ids": ["nope"]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"user_id": Uuid::new_v4()}),
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
        ),
        (
            json!({"user_id": "12"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
    ] {
        let (s, b) = call(
            &app,
            Method::POST,
            &members,
            Some(&admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, code(&b)), (status, err), "{body}: {b}");
    }
    assert!(member_roles(&app, org, carol).await.is_empty());

    let (status, body) = call(&app, Method::GET, &members, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pagination"]["total"], 2);
    let m = &body["members"][1];
    assert_eq!(m["user_id"], bob.to_string());
    assert_eq!(m["organization_id"], org.to_string());
    assert_eq!(m["user"]["email"], "bob@example.com");
    assert_eq!(m["roles"][0]["code"], "org_member");
    for key in ["id", "status", "joined_at"] {
        assert!(m.get(key).is_some(), "{key}");
    }

    let owner_path = format!("{members}/{owner}");
    let (status, body) = call(&app, Method::DELETE, &owner_path, Some(&admin), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("{owner_path}/status"),
        Some(&admin),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );

    let bob_path = format!("{members}/{bob}");
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("{bob_path}/status"),
        Some(&admin),
        Some(json!({"status": "frozen"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("{bob_path}/status"),
        Some(&admin),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tv(&app, bob).await, 1);
    let (_, body) = call(
        &app,
        Method::GET,
        &format!("{members}?status=suspended"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(body["pagination"]["total"], 1);
    let (status, _) = call(&app, Method::DELETE, &bob_path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tv(&app, bob).await, 2);
    let (status, body) = call(&app, Method::DELETE, &bob_path, Some(&admin), None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (_, body) = call(
        &app,
        Method::GET,
        &format!("{members}?status=removed"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(body["members"][0]["user_id"], bob.to_string());
    // re-adding after removal starts a fresh membership
    let (status, _) = call(
        &app,
        Method::POST,
        &members,
        Some(&admin),
        Some(json!({"user_id": bob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn replacing_member_roles_validates_and_bumps_the_token_version_9_6() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Umbrella").await;
    let other = create_org(&app, &admin, "Aperture").await;
    sqlx::query(
        "insert into roles (code, name, type, is_org_role, organization_id)
         values ('ap_only', 'Aperture only', 'custom', true, $1),
                ('umb_lead', 'Lead', 'custom', true, $2)",
    )
    .bind(other)
    .bind(org)
    .execute(&app.platform.db)
    .await
    .expect("roles");
    let bob = user(&app, "bob@example.com", &["base_user"]).await;
    join(&app, org, bob, "org_member").await;
    let path = format!("/admin/organizations/{org}/members/{bob}/roles");
    let (status, body) = call(&app, Method::PUT, &path, Some(&admin), Some(json!({}))).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    assert_eq!(body["error"]["details"]["field"], "role_codes");
    for bad in [
        json!(["nope"]),
        json!(["super_admin"]),
        json!(["ap_only"]),
        json!(["org_admin", "base_user"]),
    ] {
        let (status, body) = call(
            &app,
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"role_codes": bad})),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{bad}"
        );
    }
    assert_eq!(member_roles(&app, org, bob).await, ["org_member"]);
    assert_eq!(tv(&app, bob).await, 0, "refused changes bump nothing");

    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"role_codes": ["org_manager", "umb_lead"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], bob.to_string());
    let codes: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert_eq!(codes, ["org_manager", "umb_lead"]);
    assert_eq!(
        member_roles(&app, org, bob).await,
        ["org_manager", "umb_lead"]
    );
    assert_eq!(tv(&app, bob).await, 1);
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"role_codes": []})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["roles"], json!([]));
    assert_eq!(tv(&app, bob).await, 2);
    let stranger = format!(
        "/admin/organizations/{org}/members/{}/roles",
        Uuid::new_v4()
    );
    let (status, _) = call(
        &app,
        Method::PUT,
        &stranger,
        Some(&admin),
        Some(json!({"role_codes": []})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"organization.member_roles_changed".to_owned())
    );
}

#[tokio::test]
async fn me_orgs_has_both_shapes_9_19_and_admins_see_the_same() {
    let app = app().await;
    let (admin_id, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let a = create_org(&app, &admin, "Alpha Org").await;
    let b = create_org(&app, &admin, "Beta Org").await;
    let deleted = create_org(&app, &admin, "Gone Org").await;
    let bob = user(&app, "bob@example.com", &["base_user"]).await;
    join(&app, a, bob, "org_manager").await;
    join(&app, b, bob, "org_member").await;
    join(&app, deleted, bob, "org_member").await;
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/admin/organizations/{deleted}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // the deletion bumped every member's token version
    let admin = fresh_token(&app, admin_id, "root@example.com", &["system_admin"]).await;
    let bob_token = fresh_token(&app, bob, "bob@example.com", &["base_user"]).await;

    let (status, mine) = call(&app, Method::GET, "/me/orgs", Some(&bob_token), None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let memberships = mine["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 2);
    assert_eq!(memberships[0]["organization"]["slug"], "alpha-org");
    assert_eq!(memberships[0]["status"], "active");
    assert_eq!(memberships[0]["roles"][0]["code"], "org_manager");
    assert!(memberships[0]["joined_at"].is_string());
    let flat = &mine["organizations"];
    assert_eq!(
        flat[0],
        json!({"id": a.to_string(), "slug": "alpha-org", "name": "Alpha Org",
        "role": "org_manager", "status": "active", "joined_at": memberships[0]["joined_at"]})
    );
    assert_eq!(flat[1]["role"], "org_member");

    let (status, theirs) = call(
        &app,
        Method::GET,
        &format!("/admin/users/{bob}/organizations"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs, mine);
    let (status, body) = call(
        &app,
        Method::GET,
        &format!("/admin/users/{}/organizations", Uuid::new_v4()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
    );
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/admin/users/{bob}/organizations"),
        Some(&bob_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, Method::GET, "/me/orgs", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
