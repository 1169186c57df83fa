//! `POST /auth/register` (three modes, app policy, organisations, invitations),
//! `POST /auth/check-email`, `POST /auth/admin/set-password`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestClaims;
use uuid::Uuid;

use crate::support::*;

fn new_user(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "first_name": "Grace", "last_name": "Hopper"})
}

async fn users_named(app: &testkit::TestApp, email: &str) -> i64 {
    count(
        app,
        &format!("select count(*) from users where lower(email) = lower('{email}')"),
    )
    .await
}

#[tokio::test]
async fn register_creates_a_pending_user_without_tokens() {
    let app = start(&[]).await;
    let mut body = new_user("Grace@Example.com");
    body["display_name"] = json!("Amazing Grace");
    body["favourite_colour"] = json!("blue");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["user"]["email"], "grace@example.com");
    assert_eq!(reply["user"]["status"], "pending");
    assert_eq!(reply["user"]["email_verified"], false);
    assert_eq!(reply["user"]["display_name"], "Amazing Grace");
    assert_eq!(
        reply["verification_email_sent"], false,
        "log-only mail in this test"
    );
    assert!(reply.get("tokens").is_none());
    let hash: String = sqlx::query_scalar("select password_hash from users")
        .fetch_one(&app.platform.db)
        .await
        .expect("hash");
    assert!(
        hash.starts_with("$2b$10$"),
        "BCRYPT_COST of the test env (PW-01)"
    );
    let roles = count(&app, "select count(*) from user_base_roles ub join roles r on r.id = ub.role_id where r.code = 'base_user'").await;
    assert_eq!(roles, 1);
    assert_eq!(
        count(&app, "select count(*) from email_verification_tokens").await,
        1
    );
    // pending users can log in (§5.1 step 7)
    let (status, _) = login(&app, "grace@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn pw_10_duplicates_are_refused_case_insensitively() {
    let app = start(&[]).await;
    let (status, _) = post(&app, "/auth/register", &new_user("grace@example.com"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post(
        &app,
        "/auth/register",
        &new_user(" GRACE@example.COM"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "USER_ALREADY_EXISTS");
    assert_eq!(users_named(&app, "grace@example.com").await, 1);
}

#[tokio::test]
async fn pw_02_pw_03_password_policy_and_the_72_byte_rule() {
    let app = start(&[]).await;
    for (password, why) in [
        ("Short1", "too short"),
        ("alllowercase1", "no upper"),
        ("NoDigitsHere", "no digit"),
        (&*format!("Aa1{}", "x".repeat(70)), "73 bytes"),
        (
            &*format!("Aa1{}", "€".repeat(30)),
            "93 bytes in 33 characters",
        ),
    ] {
        let mut body = new_user("grace@example.com");
        body["password"] = json!(password);
        let (status, reply) = post(&app, "/auth/register", &body, None).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        if why.contains("bytes") {
            assert!(
                reply["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("72 bytes"),
                "{reply}"
            );
        }
    }
    assert_eq!(count(&app, "select count(*) from users").await, 0);
    let mut body = new_user("grace@example.com");
    body["password"] = json!(format!("Aa1{}", "x".repeat(69)));
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "72 bytes exactly: {reply}");
}

#[tokio::test]
async fn field_problems_name_the_field_and_create_nothing() {
    let app = start(&[]).await;
    for (field, value) in [
        ("email", json!("not-an-email")),
        ("email", json!("a@b.co'; drop table users; --")),
        ("first_name", json!("   ")),
        ("last_name", json!("")),
        ("first_name", json!("x".repeat(101))),
        ("mode", json!("register_or_whatever")),
    ] {
        let mut body = new_user("grace@example.com");
        body[field] = value;
        let (status, reply) = post(&app, "/auth/register", &body, None).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert_eq!(reply["error"]["details"]["field"], field, "{reply}");
    }
    let (status, reply) = post_raw(
        &app,
        "/auth/register",
        "application/json",
        b"{\"email\": \"a@b.co\",".to_vec(),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let mut body = new_user("grace@example.com");
    body["first_name"] = json!(42.5);
    body["last_name"] = json!({"x": 1});
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, reply) = post(
        &app,
        "/auth/register",
        &json!({"email": "grace@example.com"}),
        None,
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let mut big = new_user("grace@example.com");
    big["display_name"] = json!("x".repeat(10 * 1024 * 1024));
    let (status, reply) = post(&app, "/auth/register", &big, None).await;
    assert_error(
        status,
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "VALIDATION_ERROR",
    );
    let mut unicode = new_user("ünïcødé@exämple.com");
    unicode["first_name"] = json!("Zoë 🚀");
    unicode["last_name"] = json!("O'Brien; DROP TABLE users");
    let (status, reply) = post(&app, "/auth/register", &unicode, None).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["user"]["last_name"], "O'Brien; DROP TABLE users");
    assert_eq!(count(&app, "select count(*) from users").await, 1);
}

#[tokio::test]
async fn register_or_login_and_register_or_return() {
    let app = start(&[]).await;
    user(&app, "ada@example.com").await;
    let mut body = new_user("ada@example.com");
    body["mode"] = json!("register_or_login");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["logged_in"], true);
    assert!(reply["tokens"]["access_token"].is_string());
    body["password"] = json!("Wrong1Horse");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(
        status,
        &reply,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );

    let mut body = new_user("ada@example.com");
    body["mode"] = json!("register_or_return");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    let admin = TestClaims::user(Uuid::new_v4(), &["system_admin"]).sign();
    let (status, reply) = post(&app, "/auth/register", &body, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["user"]["email"], "ada@example.com");
    assert!(reply.get("tokens").is_none());
    assert_eq!(users_named(&app, "ada@example.com").await, 1);
}

#[tokio::test]
async fn organisation_creation_and_no_partial_rows_on_failure() {
    let app = start(&[]).await;
    let mut body = new_user("grace@example.com");
    body["organization_name"] = json!("Acme Trading");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["organization"]["slug"], "acme-trading");
    assert_eq!(reply["organization"]["owner_id"], reply["user"]["id"]);
    let admin_role = count(&app, "select count(*) from organization_member_roles omr join roles r on r.id = omr.role_id where r.code = 'org_admin'").await;
    assert_eq!(admin_role, 1);
    // the same organisation name again: 409, and the second user is not left behind
    let mut body = new_user("linus@example.com");
    body["organization_name"] = json!("ACME trading");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(
        status,
        &reply,
        StatusCode::CONFLICT,
        "ORGANIZATION_ALREADY_EXISTS",
    );
    assert_eq!(users_named(&app, "linus@example.com").await, 0);
}

#[tokio::test]
async fn invitations_join_the_org_or_refuse_without_rows() {
    let app = start(&[]).await;
    let owner = user(&app, "owner@example.com").await;
    let org: Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id) values ('Acme', 'acme', $1) returning id",
    )
    .bind(owner)
    .fetch_one(&app.platform.db)
    .await
    .expect("org");
    exec(
        &app,
        &format!(
            "insert into invitations (organization_id, email, code, token, expires_at)
         values ('{org}', 'grace@example.com', 'ABC234', 'tok-live', now() + interval '1 day'),
                ('{org}', 'old@example.com', 'OLD234', 'tok-old', now() - interval '1 second')"
        ),
    )
    .await;
    let mut body = new_user("old@example.com");
    body["invite_code"] = json!("OLD234");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVITE_EXPIRED");
    assert_eq!(users_named(&app, "old@example.com").await, 0);
    body["invite_code"] = json!("NOPE99");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "INVITE_NOT_FOUND");

    let mut body = new_user("grace@example.com");
    body["invite_code"] = json!("abc234");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["organization"]["id"], org.to_string());
    assert_eq!(
        count(
            &app,
            "select count(*) from invitations where status = 'accepted'"
        )
        .await,
        1
    );
    let mut again = new_user("other@example.com");
    again["invite_token"] = json!("tok-live");
    let (status, reply) = post(&app, "/auth/register", &again, None).await;
    assert_error(
        status,
        &reply,
        StatusCode::BAD_REQUEST,
        "INVITE_ALREADY_USED",
    );
}

#[tokio::test]
async fn app_registration_policy() {
    let app = start(&[]).await;
    let corp = app_row(&app, "corp", true, "active").await;
    exec(&app, &format!(
        "update apps set allowed_email_domains = '{{corp.example}}', registration_namespace = 'corp',
                read_namespaces = '{{corp,shared}}' where id = '{corp}'"
    ))
    .await;
    let sso = app_row(&app, "sso-only", true, "active").await;
    exec(
        &app,
        &format!("update apps set allowed_auth_methods = '{{google}}' where id = '{sso}'"),
    )
    .await;
    let mut body = new_user("grace@gmail.example");
    body["app_code"] = json!("corp");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(reply["error"]["details"]["field"], "email");
    body["app_code"] = json!("sso-only");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(reply["error"]["details"]["field"], "password");
    body["app_code"] = json!("missing");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "NOT_FOUND");

    let mut body = new_user("grace@corp.example");
    body["app_code"] = json!("corp");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let pool: String =
        sqlx::query_scalar("select namespace from users where email = 'grace@corp.example'")
            .fetch_one(&app.platform.db)
            .await
            .expect("pool");
    assert_eq!(pool, "corp");
    assert_eq!(
        count(
            &app,
            "select count(*) from user_namespaces where namespace = 'shared'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("select count(*) from user_apps where app_id = '{corp}'")
        )
        .await,
        1
    );
    // the same address may register again in another pool
    let (status, reply) = post(
        &app,
        "/auth/register",
        &new_user("grace@corp.example"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
}

#[tokio::test]
async fn check_email_is_for_system_admins() {
    let app = start(&[]).await;
    user(&app, "ada@example.com").await;
    let user_token = TestClaims::user(Uuid::new_v4(), &["base_user"]).sign();
    let (status, reply) = post(
        &app,
        "/auth/check-email",
        &json!({"email": "ada@example.com"}),
        Some(&user_token),
    )
    .await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    let (status, _) = post(
        &app,
        "/auth/check-email",
        &json!({"email": "ada@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin = TestClaims::user(Uuid::new_v4(), &["system_admin"]).sign();
    let (status, reply) = post(
        &app,
        "/auth/check-email",
        &json!({"email": "ADA@example.com"}),
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["exists"], true);
    let (_, reply) = post(
        &app,
        "/auth/check-email",
        &json!({"email": "who@example.com"}),
        Some(&admin),
    )
    .await;
    assert_eq!(reply["exists"], false);
    let (_, reply) = post(
        &app,
        "/auth/check-email",
        &json!({"email": "' or 1=1 --"}),
        Some(&admin),
    )
    .await;
    assert_eq!(reply["exists"], false);
}

#[tokio::test]
async fn admin_set_password() {
    let app = start(&[]).await;
    let id = user(&app, "ada@example.com").await;
    let body = json!({"user_id": id, "new_password": "brand-new-pass"});
    let user_token = TestClaims::user(Uuid::new_v4(), &["super_admin"]).sign();
    let (status, reply) = post(&app, "/auth/admin/set-password", &body, Some(&user_token)).await;
    assert_error(status, &reply, StatusCode::FORBIDDEN, "FORBIDDEN");
    let admin = TestClaims::user(Uuid::new_v4(), &["system_admin"]).sign();
    let (status, reply) = post(&app, "/auth/admin/set-password", &body, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply, json!({"success": true}));
    let (status, _) = login(&app, "ada@example.com", "brand-new-pass").await;
    assert_eq!(status, StatusCode::OK);
    let (status, reply) = post(
        &app,
        "/auth/admin/set-password",
        &json!({"user_id": Uuid::new_v4(), "new_password": "long-enough"}),
        Some(&admin),
    )
    .await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    let (status, reply) = post(
        &app,
        "/auth/admin/set-password",
        &json!({"user_id": id, "new_password": "short"}),
        Some(&admin),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (status, reply) = post(
        &app,
        "/auth/admin/set-password",
        &json!({"user_id": "1; drop", "new_password": "long-enough"}),
        Some(&admin),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
}
