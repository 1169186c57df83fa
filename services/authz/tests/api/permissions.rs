//! `POST /admin/permissions/register` gates per service and token-version bumps on prune
//! (contract §9.6, §9.12; SECURITY AZ-01, AZ-02).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::TestApp;

use crate::helpers::{app, call, code, create_org, join, tv, user, user_token};
use crate::roles::service_token;

fn perms(service: &str, n: usize) -> Value {
    (0..n)
        .map(|i| json!({"code": format!("{service}:act{i}"), "resource": service, "action": format!("act{i}")}))
        .collect()
}

async fn register(app: &TestApp, token: &str, service: &str, n: usize) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        "/admin/permissions/register",
        Some(token),
        Some(json!({"service": service, "permissions": perms(service, n)})),
    )
    .await
}

async fn service_perms(app: &TestApp, service: &str) -> i64 {
    sqlx::query_scalar("select count(*) from permissions where service = $1")
        .bind(service)
        .fetch_one(&app.platform.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_service_token_registers_only_its_own_or_named_service_az_01() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let billing = service_token(&app, &admin, "billing", &["permissions:register"]).await;
    let deployer =
        service_token(&app, &admin, "deployer", &["permissions:register:payments"]).await;
    // someone else's slice: refused, nothing written
    for (token, service) in [
        (&billing, "payments"),
        (&deployer, "billing"),
        (&deployer, "deployer"),
    ] {
        let (status, body) = register(&app, token, service, 2).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS"),
            "{service}: {body}"
        );
        assert_eq!(service_perms(&app, service).await, 0);
    }
    let (status, body) = register(&app, &billing, "billing", 2).await;
    assert_eq!(status, StatusCode::OK, "own service: {body}");
    let (status, body) = register(&app, &deployer, "payments", 3).await;
    assert_eq!(status, StatusCode::OK, "named service: {body}");
    // a billing token cannot prune payments' slice to nothing
    let (status, _) = register(&app, &billing, "payments", 0).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(service_perms(&app, "payments").await, 3);
    // a system admin still registers any service
    let (status, body) = register(&app, &admin, "payments", 1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["pruned_codes"],
        json!(["payments:act1", "payments:act2"])
    );
}

#[tokio::test]
async fn pruning_bumps_every_holder_of_an_affected_role_az_02() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (status, body) = register(&app, &admin, "billing", 2).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let base_holder = user(&app, "seller@example.com", &["base_user", "seller"]).await;
    let member = user(&app, "member@example.com", &["base_user"]).await;
    let bystander = user(&app, "other@example.com", &["base_user"]).await;
    let org = create_org(&app, &admin, "Acme").await;
    join(&app, org, member, "org_manager").await;
    // seller (base role) holds act1, org_manager (org role) holds act1; base_user only act0
    sqlx::query(
        "insert into role_permissions (role_id, permission_id)
         select r.id, p.id from roles r, permissions p
          where r.organization_id is null
            and ((r.code in ('seller', 'org_manager') and p.code = 'billing:act1')
              or (r.code = 'base_user' and p.code = 'billing:act0'))",
    )
    .execute(&app.platform.db)
    .await
    .expect("grant");
    let before = [
        tv(&app, base_holder).await,
        tv(&app, member).await,
        tv(&app, bystander).await,
    ];
    // keep act0, prune act1
    let (status, body) = register(&app, &admin, "billing", 1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pruned_codes"], json!(["billing:act1"]));
    let after = [
        tv(&app, base_holder).await,
        tv(&app, member).await,
        tv(&app, bystander).await,
    ];
    assert_eq!(after[0], before[0] + 1, "base-role holder bumped");
    assert_eq!(after[1], before[1] + 1, "org-role holder bumped");
    assert_eq!(after[2], before[2], "a role that lost nothing bumps no one");
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from outbox where topic not like 'audit.%'
            and payload::text like '%' || $1::text || '%'",
    )
    .bind(base_holder.to_string())
    .fetch_one(&app.platform.db)
    .await
    .expect("outbox");
    assert!(
        queued >= 1,
        "the bump is queued for the KV relay in the same transaction"
    );
    // registering the same slice again prunes nothing and bumps nobody
    let (status, _) = register(&app, &admin, "billing", 1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tv(&app, base_holder).await, after[0]);
}
