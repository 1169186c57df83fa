//! Custom organisation roles under `/orgs/{orgId}/roles*` and the assignable permissions
//! (§2.9): only `org_assignable` permissions the caller holds (AZ-03), system roles read-only.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{audit_actions, call, code, join, org_token, tv, user};
use crate::org_self::{Fixture, fixture, perms};

async fn create_role(f: &Fixture, token: &str, body: Value) -> (StatusCode, Value) {
    call(
        &f.app,
        Method::POST,
        &format!("/orgs/{}/roles", f.org),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn custom_roles_hold_only_assignable_permissions_you_hold() {
    let f = fixture().await;
    let app = &f.app;
    let (status, body) = create_role(&f, &f.boss_token, json!({"code": "lead", "name": "Lead",
        "description": "Team lead", "level": 40, "permission_codes": ["org:members:read", "org:members:invite", "org:members:read"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "custom");
    assert_eq!(body["is_org_role"], true);
    assert_eq!(body["organization_id"], f.org.to_string());
    assert_eq!(body["level"], 40);
    let codes: Vec<&str> = body["permissions"]
        .as_array()
        .expect("perms")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(codes, ["org:members:invite", "org:members:read"]);
    let lead = body["id"].as_str().unwrap_or_default().to_owned();

    let count = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from roles where organization_id is not null")
            .fetch_one(&app.platform.db)
            .await
            .expect("count")
    };
    for (body, status, err) in [
        (
            json!({"code": "x", "name": "X", "permission_codes": ["org:roles:create"]}),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            json!({"code": "x", "name": "X", "permission_codes": ["users:delete"]}),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            json!({"code": "x", "name": "X", "permission_codes": ["org:nope"]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "org_admin", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "SYSTEM_ADMIN", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "x"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "two words", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "x", "name": "X", "level": -5}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"code": "lead", "name": "Again"}),
            StatusCode::CONFLICT,
            "ROLE_ALREADY_EXISTS",
        ),
    ] {
        let (s, b) = create_role(&f, &f.boss_token, body.clone()).await;
        assert_eq!((s, code(&b)), (status, err), "{body}: {b}");
    }
    assert_eq!(count().await, 1, "no partial writes");

    // a caller holding org:roles:create but not org:update cannot hand org:update out
    let limited = org_token(
        f.boss,
        "boss@example.com",
        f.org,
        &[],
        &perms(&["org:roles:create", "org:read"]),
    );
    let (s, b) = create_role(
        &f,
        &limited,
        json!({"code": "y", "name": "Y", "permission_codes": ["org:update"]}),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let (s, _) = create_role(
        &f,
        &limited,
        json!({"code": "y", "name": "Y", "permission_codes": ["org:read"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // list, get, assignable
    let base = format!("/orgs/{}", f.org);
    let (_, body) = call(
        app,
        Method::GET,
        &format!("{base}/roles"),
        Some(&f.boss_token),
        None,
    )
    .await;
    let codes: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    for want in [
        "org_admin",
        "org_manager",
        "seller",
        "buyer",
        "org_member",
        "lead",
        "y",
    ] {
        assert!(codes.contains(&want), "{want} in {codes:?}");
    }
    assert!(!codes.contains(&"system_admin") && !codes.contains(&"base_user"));
    let (status, body) = call(
        app,
        Method::GET,
        &format!("{base}/roles/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::OK, Some("lead"))
    );
    let (_, body) = call(
        app,
        Method::GET,
        &format!("{base}/permissions/assignable"),
        Some(&f.boss_token),
        None,
    )
    .await;
    let codes: Vec<&str> = body["permissions"]
        .as_array()
        .expect("perms")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "org:members:invite",
            "org:members:read",
            "org:members:remove",
            "org:members:update",
            "org:read",
            "org:update"
        ]
    );
    assert!(
        audit_actions(app)
            .await
            .contains(&"organization.role_created".to_owned())
    );
}

#[tokio::test]
async fn updating_and_deleting_custom_roles() {
    let f = fixture().await;
    let app = &f.app;
    let (_, body) = create_role(
        &f,
        &f.boss_token,
        json!({"code": "lead", "name": "Lead", "permission_codes": ["org:read"]}),
    )
    .await;
    let lead = body["id"].as_str().unwrap_or_default().to_owned();
    let foreign: Uuid = sqlx::query_scalar(
        "insert into roles (code, name, type, is_org_role, organization_id)
         values ('theirs', 'Theirs', 'custom', true, $1) returning id",
    )
    .bind(f.other)
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let system: Uuid = sqlx::query_scalar(
        "select id from roles where code = 'org_member' and organization_id is null",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("role");
    let base = format!("/orgs/{}/roles", f.org);
    let upd = json!({"name": "Renamed"});
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{system}"),
        Some(&f.boss_token),
        Some(upd.clone()),
    )
    .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::FORBIDDEN, "CANNOT_MODIFY_SYSTEM_ROLE")
    );
    let (s, b) = call(
        app,
        Method::DELETE,
        &format!("{base}/{system}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::FORBIDDEN, "CANNOT_MODIFY_SYSTEM_ROLE")
    );
    for id in [foreign, Uuid::new_v4()] {
        let (s, b) = call(
            app,
            Method::PUT,
            &format!("{base}/{id}"),
            Some(&f.boss_token),
            Some(upd.clone()),
        )
        .await;
        assert_eq!((s, code(&b)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
        let (s, _) = call(
            app,
            Method::GET,
            &format!("{base}/{id}"),
            Some(&f.boss_token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = call(
            app,
            Method::DELETE,
            &format!("{base}/{id}"),
            Some(&f.boss_token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/nope"),
        Some(&f.boss_token),
        Some(upd.clone()),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::BAD_REQUEST, "INVALID_INPUT"));
    let theirs: String = sqlx::query_scalar("select name from roles where id = $1")
        .bind(foreign)
        .fetch_one(&app.platform.db)
        .await
        .expect("name");
    assert_eq!(theirs, "Theirs");

    // holders' token versions move when the permissions change (AZ-02)
    let bob = user(app, "bob@example.com", &["base_user"]).await;
    join(app, f.org, bob, "lead").await;
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        Some(json!({"name": "Lead 2", "description": null})),
    )
    .await;
    assert_eq!((s, b["name"].as_str()), (StatusCode::OK, Some("Lead 2")));
    assert_eq!(tv(app, bob).await, 0, "a rename changes no permission");
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        Some(json!({"permission_codes": ["org:read", "org:members:read"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["permissions"].as_array().map(Vec::len), Some(2));
    assert_eq!(tv(app, bob).await, 1);
    let (s, b) = call(
        app,
        Method::PUT,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        Some(json!({"permission_codes": ["org:roles:delete"]})),
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(tv(app, bob).await, 1);

    // refused while assigned, then deleted
    let (s, b) = call(
        app,
        Method::DELETE,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "CONFLICT"));
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("/orgs/{}/members/{bob}", f.org),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        app,
        Method::GET,
        &format!("{base}/{lead}"),
        Some(&f.boss_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // the code is free again
    let (s, _) = create_role(&f, &f.boss_token, json!({"code": "lead", "name": "Lead"})).await;
    assert_eq!(s, StatusCode::CREATED);
}
