//! Impersonation, hard delete and bulk import (§2.10, §5.10).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

async fn impersonate(
    app: &testkit::TestApp,
    target: Uuid,
    body: Value,
    token: &str,
) -> (StatusCode, Value) {
    post(
        app,
        &format!("/admin/users/{target}/impersonate"),
        &body,
        Some(token),
    )
    .await
}

async fn hard_delete(
    app: &testkit::TestApp,
    target: Uuid,
    body: Option<&Value>,
    token: &str,
) -> (StatusCode, Value) {
    send(
        app,
        Method::DELETE,
        &format!("/admin/users/{target}/hard"),
        body,
        Some(token),
    )
    .await
}

#[tokio::test]
async fn impersonation_carries_the_admin_and_refuses_chains_self_and_escalation() {
    let app = start(&[]).await;
    let (root, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user(&app, "ada@example.com").await;
    let why = json!({"reason": "ticket 42: cannot see invoices"});

    let (status, reply) = impersonate(&app, ada, why.clone(), &token).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["user"]["id"], ada.to_string());
    assert_eq!(reply["roles"], json!(["base_user"]));
    let access = reply["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let claims = claims_of(&access);
    assert_eq!(claims["uid"], ada.to_string());
    assert_eq!(claims["imp_uid"], root.to_string());
    assert_eq!(claims["imp_email"], "root@example.com");
    let (status, me) = send(&app, Method::GET, "/auth/me", None, Some(&access)).await;
    assert_eq!(
        (status, me["email"].clone()),
        (StatusCode::OK, json!("ada@example.com"))
    );

    // no chains: an impersonation token cannot impersonate again, even a platform admin's
    let (status, reply) = impersonate(&app, root, why.clone(), &access).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    let mut chained = testkit::TestClaims::user(root, &["system_admin"]).to_json();
    chained["imp_uid"] = json!(Uuid::new_v4());
    let (status, reply) = impersonate(&app, ada, why.clone(), &testkit::sign_json(&chained)).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");

    for body in [json!({"reason": "   "}), json!({"reason": "x".repeat(501)})] {
        let (status, reply) = impersonate(&app, ada, body, &token).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert_eq!(reply["error"]["details"]["field"], "reason");
    }
    let (status, reply) = impersonate(&app, ada, json!({}), &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = impersonate(&app, root, why.clone(), &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = impersonate(&app, Uuid::new_v4(), why.clone(), &token).await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    exec(
        &app,
        &format!("update users set status = 'suspended' where id = '{ada}'"),
    )
    .await;
    let (status, reply) = impersonate(&app, ada, why.clone(), &token).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "USER_SUSPENDED");

    // a super_admin may not become a system_admin; a plain user may not impersonate at all
    let (_, sup) = admin(&app, "sup@example.com", "super_admin").await;
    let (status, reply) = impersonate(&app, root, why.clone(), &sup).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    let bob = user(&app, "bob@example.com").await;
    let (status, reply) = impersonate(&app, bob, why.clone(), &sup).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let plain = access_token(&app, "bob@example.com").await;
    let (status, reply) = impersonate(&app, root, why.clone(), &plain).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");

    let actions = audit_actions(&app).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "user.impersonation_started")
            .count(),
        2
    );
    assert!(
        actions
            .iter()
            .filter(|a| *a == "user.impersonation_failed")
            .count()
            >= 8
    );
    assert_eq!(count(&app, "select count(*) from sessions where user_id in (select id from users where email in ('ada@example.com', 'bob@example.com'))").await, 3);
}

#[tokio::test]
async fn an_org_admin_impersonates_members_of_its_scoped_org_only() {
    let app = start(&[]).await;
    let boss = user(&app, "boss@example.com").await;
    let member = user(&app, "member@example.com").await;
    let outsider = user(&app, "outsider@example.com").await;
    let org = org_with(
        &app,
        "acme",
        boss,
        &[(boss, "org_admin"), (member, "org_member")],
    )
    .await;
    let (status, reply) = post(
        &app,
        "/auth/login",
        &json!({"email": "boss@example.com", "password": PASSWORD, "organization_id": org}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let scoped = reply["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let why = json!({"reason": "help a colleague"});
    let (status, reply) = impersonate(&app, member, why.clone(), &scoped).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["organization"]["id"], org.to_string());
    let claims = claims_of(reply["tokens"]["access_token"].as_str().expect("token"));
    assert_eq!(claims["org_id"], org.to_string());
    assert_eq!(claims["imp_uid"], boss.to_string());
    let (status, reply) = impersonate(&app, outsider, why.clone(), &scoped).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    // without the org scope the org role is not in the token
    let unscoped = access_token(&app, "boss@example.com").await;
    let (status, reply) = impersonate(&app, member, why, &unscoped).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
}

#[tokio::test]
async fn hard_delete_removes_the_user_and_its_tokens_but_keeps_the_audit_trail() {
    let app = start(&[]).await;
    let (root, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user(&app, "ada@example.com").await;
    access_token(&app, "ada@example.com").await; // a live session to be removed
    let reason = json!({"reason": "GDPR erasure request #7"});

    let (status, reply) = hard_delete(&app, ada, None, &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = hard_delete(&app, ada, Some(&json!({"reason": ""})), &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = hard_delete(&app, root, Some(&reason), &token).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = hard_delete(&app, Uuid::new_v4(), Some(&reason), &token).await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    let (_, sup) = admin(&app, "sup@example.com", "super_admin").await;
    let (status, reply) = hard_delete(&app, ada, Some(&reason), &sup).await;
    assert_error(
        status,
        &reply,
        StatusCode::FORBIDDEN,
        "INSUFFICIENT_PERMISSIONS",
    );
    let owner = user(&app, "owner@example.com").await;
    org_with(&app, "acme", owner, &[(owner, "org_admin")]).await;
    let (status, reply) = hard_delete(&app, owner, Some(&reason), &token).await;
    assert_error(status, &reply, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(
        count(
            &app,
            &format!("select count(*) from users where id = '{owner}'")
        )
        .await,
        1
    );

    let tv_before: i64 = sqlx::query_scalar("select token_version from users where id = $1")
        .bind(ada)
        .fetch_one(&app.platform.db)
        .await
        .expect("tv");
    let (status, reply) = hard_delete(&app, ada, Some(&reason), &token).await;
    assert_eq!((status, reply), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(
        count(
            &app,
            &format!("select count(*) from users where id = '{ada}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            &format!("select count(*) from sessions where user_id = '{ada}'")
        )
        .await,
        0
    );
    // the version was bumped before the row went (the outbox carries it to every replica)
    assert_version_published(&app, ada, tv_before + 1).await;

    let (status, _) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let event: Value = sqlx::query_scalar(
        "select payload from outbox where payload->>'action' = 'user.hard_deleted'",
    )
    .fetch_one(&app.platform.db)
    .await
    .expect("audit");
    assert_eq!(event["user_id"], root.to_string());
    assert_eq!(event["details"]["subject_user_id"], ada.to_string());
    assert_eq!(event["details"]["reason"], "GDPR erasure request #7");
}

fn hash() -> String {
    bcrypt::hash(PASSWORD, 4).expect("hash")
}

#[tokio::test]
async fn bulk_import_reports_every_row_and_imported_users_can_log_in() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    user(&app, "ada@example.com").await;
    let h = hash();
    let body = json!({"users": [
        {"email": "New@Example.com", "password_hash": h, "first_name": "Nu", "namespace_tags": ["shop"],
         "metadata": {"legacy_id": 7}},
        {"email": "ada@example.com", "password_hash": h},
        {"email": "not an email", "password_hash": h},
        {"email": "md5@example.com", "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"},
        {"email": "argon@example.com", "password_hash": h, "hash_algo": "argon2"},
        {"email": "new@example.com", "password_hash": h},
        {"email": "tags@example.com", "password_hash": h, "namespace_tags": ["a b"]},
        {"email": "meta@example.com", "password_hash": h, "metadata": [1]},
        {"password_hash": h}
    ]});
    let (status, reply) = post(&app, "/admin/users/bulk-import", &body, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        (
            reply["created"].clone(),
            reply["updated"].clone(),
            reply["skipped"].clone(),
            reply["errored"].clone()
        ),
        (json!(1), json!(0), json!(1), json!(7))
    );
    let statuses: Vec<&str> = reply["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        [
            "created", "skipped", "error", "error", "error", "error", "error", "error", "error"
        ]
    );
    assert_eq!(reply["rows"][0]["email"], "new@example.com");
    assert!(reply["rows"][0]["uid"].is_string());
    assert!(
        reply["rows"][5]["reason"]
            .as_str()
            .expect("reason")
            .contains("duplicate")
    );
    let (status, reply) = login(&app, "new@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["user"]["first_name"], "Nu");
    assert_eq!(
        count(
            &app,
            "select count(*) from user_namespaces where namespace = 'shop'"
        )
        .await,
        1
    );
    let roles = count(&app, "select count(*) from user_base_roles ub join users u on u.id = ub.user_id where u.email = 'new@example.com'").await;
    assert_eq!(roles, 1);

    // update: the existing user's hash is replaced
    let other = bcrypt::hash("Other2Horse", 4).expect("hash");
    let body = json!({"update": true, "users": [{"email": "ada@example.com", "password_hash": other, "metadata": {"x": 1}}]});
    let (status, reply) = post(&app, "/admin/users/bulk-import", &body, Some(&token)).await;
    assert_eq!(
        (status, reply["updated"].clone()),
        (StatusCode::OK, json!(1)),
        "{reply}"
    );
    let (status, _) = login(&app, "ada@example.com", "Other2Horse").await;
    assert_eq!(status, StatusCode::OK);

    // an app: its home pool and a grant
    app_row(&app, "shop", false, "active").await;
    exec(
        &app,
        "update apps set registration_namespace = 'shop-pool' where code = 'shop'",
    )
    .await;
    let body = json!({"app_code": "shop", "users": [{"email": "shopper@example.com", "password_hash": h}]});
    let (status, reply) = post(&app, "/admin/users/bulk-import", &body, Some(&token)).await;
    assert_eq!(
        (status, reply["created"].clone()),
        (StatusCode::OK, json!(1)),
        "{reply}"
    );
    let pool: String =
        sqlx::query_scalar("select namespace from users where email = 'shopper@example.com'")
            .fetch_one(&app.platform.db)
            .await
            .expect("user");
    assert_eq!(pool, "shop-pool");
    assert_eq!(count(&app, "select count(*) from user_apps").await, 1);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"user.bulk_imported".to_owned())
    );
}

#[tokio::test]
async fn bulk_import_refusals_write_nothing() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let before = count(&app, "select count(*) from users").await;
    let h = hash();
    let many: Vec<Value> = (0..501)
        .map(|i| json!({"email": format!("u{i}@example.com"), "password_hash": h}))
        .collect();
    for (body, expected, code) in [
        (
            json!({"users": many}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"app_code": "nope", "users": [{"email": "a@example.com", "password_hash": h}]}),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            json!({"default_namespace": "a b", "users": [{"email": "a@example.com", "password_hash": h}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (
            json!({"users": "x"}),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "INVALID_INPUT"),
    ] {
        let (status, reply) = post(&app, "/admin/users/bulk-import", &body, Some(&token)).await;
        assert_error(status, &reply, expected, code);
    }
    let (_, sup) = admin(&app, "sup@example.com", "super_admin").await;
    let body = json!({"users": [{"email": "a@example.com", "password_hash": h}]});
    let (status, reply) = post(&app, "/admin/users/bulk-import", &body, Some(&sup)).await;
    assert_error(
        status,
        &reply,
        StatusCode::FORBIDDEN,
        "INSUFFICIENT_PERMISSIONS",
    );
    assert_eq!(
        count(&app, "select count(*) from users").await,
        before + 1,
        "only the super_admin fixture"
    );
}
