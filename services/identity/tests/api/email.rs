//! Mail flows against a real SMTP server: the token is read from the message actually sent.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;
use testkit::{SmtpSink, link_param};

async fn start_with_mail(smtp: &SmtpSink) -> testkit::TestApp {
    let vars = smtp.vars();
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    start(&refs).await
}

#[tokio::test]
async fn register_then_verify_the_email_from_the_real_message() {
    let smtp = SmtpSink::start().await;
    let app = start_with_mail(&smtp).await;
    let body = json!({"email": "grace@example.com", "password": PASSWORD,
                      "first_name": "Grace", "last_name": "Hopper"});
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["verification_email_sent"], true);
    let message = smtp.wait_for("grace@example.com", 1).await;
    assert!(
        message.contains("Subject: Verify your email address"),
        "{message}"
    );
    assert!(
        message.contains("From: \"VEN Auth\" <auth@platform.test>")
            || message.contains("auth@platform.test")
    );
    assert!(
        message.contains("https://app.example.test/auth/verify-email?token="),
        "{message}"
    );
    let token = link_param(&message, "token");

    // a reset token is no verification token (ML-06)
    let (status, reply) = post(&app, "/auth/verify-email", &json!({"token": "x.y.z"}), None).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
    let (status, reply) = post(&app, "/auth/verify-email", &json!({"token": token}), None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply, json!({"success": true}));
    let state: (bool, String) = sqlx::query_as("select email_verified, status from users")
        .fetch_one(&app.platform.db)
        .await
        .expect("user");
    assert_eq!(state, (true, "active".to_owned()));
    // single use, also through the GET form
    let (status, reply) = send(
        &app,
        Method::GET,
        &format!("/auth/verify-email?token={token}"),
        None,
        None,
    )
    .await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
}

#[tokio::test]
async fn resend_and_the_get_link_form_and_expiry() {
    let smtp = SmtpSink::start().await;
    let app = start_with_mail(&smtp).await;
    user_in(&app, "ada@example.com", "default", "pending").await;
    exec(&app, "update users set email_verified = false").await;
    let (status, reply) = post(
        &app,
        "/auth/verify-email/resend",
        &json!({"email": ""}),
        None,
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    for email in ["nobody@example.com", "not an email", "ADA@example.com"] {
        let (status, reply) = post(
            &app,
            "/auth/verify-email/resend",
            &json!({"email": email}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    let message = smtp.wait_for("ada@example.com", 1).await;
    let token = link_param(&message, "token");
    // an expired row is refused like a used one
    exec(
        &app,
        "update email_verification_tokens set expires_at = now() - interval '1 second'",
    )
    .await;
    let (status, reply) = send(
        &app,
        Method::GET,
        &format!("/auth/verify-email?token={token}"),
        None,
        None,
    )
    .await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
    exec(
        &app,
        "update email_verification_tokens set expires_at = now() + interval '1 hour'",
    )
    .await;
    let (status, reply) = send(
        &app,
        Method::GET,
        &format!("/auth/verify-email?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (status, reply) = send(&app, Method::GET, "/auth/verify-email", None, None).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
}

#[tokio::test]
async fn password_reset_from_the_real_message_ends_every_session() {
    let smtp = SmtpSink::start().await;
    let app = start_with_mail(&smtp).await;
    let id = user(&app, "ada@example.com").await;
    let old_access = access_token(&app, "ada@example.com").await;
    for email in ["nobody@example.com", "ada@example.com"] {
        let (status, reply) = post(
            &app,
            "/auth/password/reset-request",
            &json!({"email": email}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(reply, json!({"success": true}));
    }
    let message = smtp.wait_for("ada@example.com", 1).await;
    assert!(
        message.contains("Subject: Reset your password"),
        "{message}"
    );
    assert!(message.contains("https://app.example.test/auth/reset?token="));
    assert!(smtp.messages_to("nobody@example.com").is_empty());
    let token = link_param(&message, "token");
    // a reset token is not an email-verification token (ML-06)
    let (status, _) = post(&app, "/auth/verify-email", &json!({"token": token}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, reply) = post(
        &app,
        "/auth/password/reset",
        &json!({"token": token, "new_password": "weak"}),
        None,
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (status, reply) = post(
        &app,
        "/auth/password/reset",
        &json!({"token": token, "new_password": "Fresh2Start"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    // the old access token is revoked (token version), the sessions ended
    let (status, reply) = send(&app, Method::GET, "/auth/me", None, Some(&old_access)).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    let live = count(
        &app,
        &format!("select count(*) from sessions where user_id = '{id}' and terminated is not true"),
    )
    .await;
    assert_eq!(live, 0);
    let (status, _) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login(&app, "ada@example.com", "Fresh2Start").await;
    assert_eq!(status, StatusCode::OK);
    let (status, reply) = post(
        &app,
        "/auth/password/reset",
        &json!({"token": token, "new_password": "Another3One"}),
        None,
    )
    .await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"password.reset".to_owned()),
        "{actions:?}"
    );
    assert!(actions.contains(&"logout.all".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn without_smtp_the_api_answers_the_same() {
    let app = start(&[("EMAIL_PROVIDER", "log")]).await;
    user(&app, "ada@example.com").await;
    let (status, reply) = post(
        &app,
        "/auth/password/reset-request",
        &json!({"email": "ada@example.com"}),
        None,
    )
    .await;
    assert_eq!((status, reply), (StatusCode::OK, json!({"success": true})));
    assert_eq!(
        count(&app, "select count(*) from password_reset_tokens").await,
        1
    );
    let (status, reply) = post_raw(
        &app,
        "/auth/password/reset-request",
        "application/json",
        b"{".to_vec(),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
}

#[tokio::test]
async fn password_change_needs_the_current_password() {
    let app = start(&[]).await;
    user(&app, "ada@example.com").await;
    let access = access_token(&app, "ada@example.com").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, reply) = post(
        &app,
        "/auth/password/change",
        &change("Wrong1Horse", "Fresh2Start"),
        Some(&access),
    )
    .await;
    assert_error(
        status,
        &reply,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    );
    let (status, reply) = post(
        &app,
        "/auth/password/change",
        &change(PASSWORD, "weak"),
        Some(&access),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (status, _) = post(
        &app,
        "/auth/password/change",
        &change(PASSWORD, "Fresh2Start"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, reply) = post(
        &app,
        "/auth/password/change",
        &change(PASSWORD, "Fresh2Start"),
        Some(&access),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    // other sessions stay (§2.3)
    let (status, _) = send(&app, Method::GET, "/auth/me", None, Some(&access)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = login(&app, "ada@example.com", "Fresh2Start").await;
    assert_eq!(status, StatusCode::OK);
    let actions = audit_actions(&app).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "password.change").count(),
        2,
        "{actions:?}"
    );
}
