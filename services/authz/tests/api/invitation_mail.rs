//! The invitation mail (§2.9 "emails the invitee", §2.3 link format): delivered over a real
//! SMTP server on loopback after the commit, never blocking or failing the API answer.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{SmtpSink, TestApp, TestClaims, link_param, sign_json};
use uuid::Uuid;

use crate::helpers::{
    audit_actions, call, create_org, fresh_token, join, role_perms, user, user_token,
};

async fn app_with(vars: &[(&'static str, String)]) -> TestApp {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::start(authz::NAME, authz::openapi(), &vars)
        .await
        .expect("start authz")
}

/// An org admin of a fresh "Acme" whose token was issued for app `portal`.
async fn inviter(app: &TestApp) -> (Uuid, String) {
    let (_, admin) = user_token(app, "root@example.com", &["system_admin"]).await;
    let org = create_org(app, &admin, "Acme").await;
    let boss = user(app, "boss@example.com", &["base_user"]).await;
    join(app, org, boss, "org_admin").await;
    let mut claims = TestClaims::user(boss, &["org_admin"]);
    claims.email = "boss@example.com".to_owned();
    claims.org_id = Some(org);
    claims.permissions = role_perms(app, "org_admin").await;
    let mut json = claims.to_json();
    json["app_code"] = json!("portal");
    json["first_name"] = json!("Ada");
    json["last_name"] = json!("Boss");
    (org, sign_json(&json))
}

#[tokio::test]
async fn the_invitee_gets_code_and_token_by_mail_and_accepts() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink.vars()).await;
    sqlx::query("insert into apps (code, name, frontend_url) values ('portal', 'Portal', 'https://portal.example.test/')")
        .execute(&app.platform.db)
        .await
        .expect("app");
    let (org, token) = inviter(&app).await;
    let (status, inv) = call(
        &app,
        Method::POST,
        &format!("/orgs/{org}/invitations"),
        Some(&token),
        Some(json!({"email": "Bob@Example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let id = inv["id"].as_str().expect("id").to_owned();

    let mail = sink.wait_for("bob@example.com", 1).await;
    assert!(
        mail.contains("Subject: You are invited to join Acme"),
        "{mail}"
    );
    assert!(mail.contains("Ada Boss has invited you"), "{mail}");
    assert!(
        mail.contains("https://portal.example.test/auth/accept-invite?code="),
        "links use the app's frontend_url (ML-04): {mail}"
    );
    let code = link_param(&mail, "code");
    let mailed_token = link_param(&mail, "token");
    assert_eq!(code, inv["code"].as_str().expect("code"));
    let stored: String = sqlx::query_scalar("select token from invitations where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.platform.db)
        .await
        .expect("token");
    assert_eq!(
        mailed_token, stored,
        "the mail carries the invitation's secret token"
    );
    assert!(
        !serde_json::to_string(&inv)
            .expect("json")
            .contains(&mailed_token)
    );

    // the invitee finds the invitation by the mailed code and accepts it
    let bob = user(&app, "bob@example.com", &["base_user"]).await;
    let bob_token = fresh_token(&app, bob, "bob@example.com", &["base_user"]).await;
    let (_, mine) = call(&app, Method::GET, "/me/invitations", Some(&bob_token), None).await;
    let found: Vec<&Value> = mine["invitations"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|i| i["code"] == code.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{mine}");
    let (status, body) = call(
        &app,
        Method::POST,
        &format!(
            "/me/invitations/{}/accept",
            found[0]["id"].as_str().expect("id")
        ),
        Some(&bob_token),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["organization"]["id"], org.to_string());
    assert!(
        !audit_actions(&app)
            .await
            .contains(&"invitation.email_failed".to_owned())
    );
}

#[tokio::test]
async fn a_dead_smtp_server_neither_fails_nor_delays_the_invitation_and_is_audited() {
    // a port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let app = app_with(&[
        ("EMAIL_PROVIDER", "smtp".to_owned()),
        ("SMTP_HOST", "127.0.0.1".to_owned()),
        ("SMTP_PORT", port.to_string()),
        ("SMTP_SECURE", "false".to_owned()),
    ])
    .await;
    let (org, token) = inviter(&app).await;
    let (status, inv) = call(
        &app,
        Method::POST,
        &format!("/orgs/{org}/invitations"),
        Some(&token),
        Some(json!({"email": "carol@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["status"], "pending");
    for _ in 0..200 {
        if audit_actions(&app)
            .await
            .contains(&"invitation.email_failed".to_owned())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no invitation.email_failed audit row");
}

#[tokio::test]
async fn without_smtp_the_mail_goes_to_the_log_and_the_answer_is_the_same() {
    let app = app_with(&[("EMAIL_PROVIDER", "log".to_owned())]).await;
    let (org, token) = inviter(&app).await;
    let (status, inv) = call(
        &app,
        Method::POST,
        &format!("/orgs/{org}/invitations"),
        Some(&token),
        Some(json!({"email": "dave@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["email"], "dave@example.com");
    assert!(inv.get("token").is_none());
}
