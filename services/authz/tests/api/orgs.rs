//! `/admin/organizations*` (§2.10, §9.8), `/admin/users/{userId}/organizations` and
//! `/me/orgs` (§9.19).

use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::TestApp;
use uuid::Uuid;

use crate::helpers::{
    app, audit_actions, call, code, create_org, fresh_token, join, tv, user, user_token,
};

async fn count_orgs(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from organizations")
        .fetch_one(&app.platform.db)
        .await
        .expect("count")
}

pub async fn member_roles(app: &TestApp, org: Uuid, user: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "select r.code from organization_members m
           join organization_member_roles omr on omr.membership_id = m.id
           join roles r on r.id = omr.role_id
          where m.organization_id = $1 and m.user_id = $2 and m.deleted_at is null
          order by r.code",
    )
    .bind(org)
    .bind(user)
    .fetch_all(&app.platform.db)
    .await
    .expect("member roles")
}

#[tokio::test]
async fn creating_an_org_makes_the_caller_owner_and_org_admin() {
    let app = app().await;
    // §9.8: super_admin may use the organisation admin routes
    let (sup_id, sup) = user_token(&app, "sup@example.com", &["super_admin"]).await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/admin/organizations",
        Some(&sup),
        Some(
            json!({"name": "  Acme Trading, Inc. ", "contact_email": "Ops@Acme.TEST",
                    "city": "Lyon"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "Acme Trading, Inc.");
    assert_eq!(body["slug"], "acme-trading-inc");
    assert_eq!(body["status"], "active");
    assert_eq!(body["owner_id"], sup_id.to_string());
    assert_eq!(body["contact_email"], "ops@acme.test");
    assert_eq!(body["sso_enabled"], false);
    assert!(body.get("description").is_none(), "absent optional: {body}");
    let org = Uuid::parse_str(body["id"].as_str().unwrap_or_default()).expect("id");
    assert_eq!(member_roles(&app, org, sup_id).await, ["org_admin"]);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"organization.created".to_owned())
    );

    // same slug from another spelling: 409, nothing written
    let (status, body) = call(
        &app,
        Method::POST,
        "/admin/organizations",
        Some(&sup),
        Some(json!({"name": "ACME trading inc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "ORGANIZATION_ALREADY_EXISTS");
    assert_eq!(count_orgs(&app).await, 1);

    for bad in [
        json!({}),
        json!({"name": "   "}),
        json!({"name": "!!!"}),
        json!({"name": "X", "contact_email": "nope"}),
        json!({"name": "X", "postal_code": "1".repeat(21)}),
    ] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/admin/organizations",
            Some(&sup),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(code(&body), "INVALID_INPUT", "{bad}");
    }
    assert_eq!(count_orgs(&app).await, 1);

    let (_, plain) = user_token(&app, "u@example.com", &["base_user"]).await;
    let (status, _) = call(
        &app,
        Method::POST,
        "/admin/organizations",
        Some(&plain),
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(count_orgs(&app).await, 1);
}

#[tokio::test]
async fn listing_pages_sorts_and_filters_through_an_allow_list() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    for name in ["Charlie", "Alpha", "Bravo"] {
        create_org(&app, &admin, name).await;
    }
    let (status, body) = call(
        &app,
        Method::GET,
        "/admin/organizations?page_size=2&sort_by=name&sort_order=asc",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["organizations"]
        .as_array()
        .expect("orgs")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["Alpha", "Bravo"]);
    assert_eq!(
        body["pagination"],
        json!({"page": 1, "page_size": 2, "total": 3})
    );
    let (_, body) = call(
        &app,
        Method::GET,
        "/admin/organizations?page=2&page_size=2&sort_by=name&sort_order=ASC",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(body["organizations"][0]["name"], "Charlie");
    sqlx::query("update organizations set status = 'suspended' where name = 'Bravo'")
        .execute(&app.platform.db)
        .await
        .expect("suspend");
    let (_, body) = call(
        &app,
        Method::GET,
        "/admin/organizations?status=suspended",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(body["pagination"]["total"], 1);
    assert_eq!(body["organizations"][0]["name"], "Bravo");
    for (query, field) in [
        ("sort_by=owner_id", "sort_by"),
        ("sort_by=name;drop%20table%20users", "sort_by"),
        ("sort_order=up", "sort_order"),
        ("status=deleted", "status"),
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
        ("page=abc", "page"),
    ] {
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("/admin/organizations?{query}"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["details"]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn get_update_and_soft_delete() {
    let app = app().await;
    let (admin_id, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Globex").await;
    let other = create_org(&app, &admin, "Initech").await;
    let (status, body) = call(
        &app,
        Method::GET,
        &format!("/admin/organizations/{}", Uuid::new_v4()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "ORGANIZATION_NOT_FOUND")
    );
    let (status, body) = call(
        &app,
        Method::GET,
        "/admin/organizations/not-a-uuid",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );

    let path = format!("/admin/organizations/{org}");
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"name": "Globex Corporation", "website": "https://globex.test", "city": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slug"], "globex-corporation");
    assert_eq!(body["website"], "https://globex.test");
    // taken slug: 409 and no change
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"name": "initech"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "ORGANIZATION_ALREADY_EXISTS")
    );
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        Some(&admin),
        Some(json!({"name": null})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let (_, body) = call(&app, Method::GET, &path, Some(&admin), None).await;
    assert_eq!(body["name"], "Globex Corporation");

    let member = user(&app, "m@example.com", &["base_user"]).await;
    join(&app, org, member, "org_member").await;
    sqlx::query(
        "insert into invitations (organization_id, email, code, token, expires_at)
         values ($1, 'x@example.com', 'ABCDEF', 'tok', now() + interval '1 day')",
    )
    .bind(org)
    .execute(&app.platform.db)
    .await
    .expect("invitation");
    let (status, body) = call(&app, Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true}));
    assert_eq!(tv(&app, member).await, 1, "member tokens scoped to it end");
    assert_eq!(tv(&app, admin_id).await, 1, "the owner is a member too");
    let (status, _) = call(&app, Method::GET, &path, Some(&admin), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "AZ-02: the old token is revoked"
    );
    let admin = fresh_token(&app, admin_id, "root@example.com", &["system_admin"]).await;
    let (status, _) = call(&app, Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let inv: String =
        sqlx::query_scalar("select status from invitations where organization_id = $1")
            .bind(org)
            .fetch_one(&app.platform.db)
            .await
            .expect("status");
    assert_eq!(inv, "revoked");
    // the slug is free again; the other organisation is untouched
    create_org(&app, &admin, "Globex Corporation").await;
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/admin/organizations/{other}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_apps_default_org_cannot_be_deleted() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let org = create_org(&app, &admin, "Home").await;
    sqlx::query(
        "insert into apps (code, name, default_organization_id) values ('shop', 'Shop', $1)",
    )
    .bind(org)
    .execute(&app.platform.db)
    .await
    .expect("app");
    let path = format!("/admin/organizations/{org}");
    let (status, body) = call(&app, Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "CONFLICT"));
    assert_eq!(body["error"]["details"]["apps"], json!(["shop"]));
    let (status, _) = call(&app, Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "still there, tokens untouched");
}
