//! JWT-09: secret boot rules, and secrets kept out of `Debug`.

use auth_settings::Settings;

use crate::{ACCESS, REFRESH, load, refused};

/// JWT-09: the service refuses to start with a short, weak, placeholder or reused secret.
#[test]
fn jwt09_bad_secrets_are_refused() {
    let short = refused(
        &[("JWT_ACCESS_SECRET", "too-short")],
        "JWT_ACCESS_SECRET",
        "32",
    );
    assert!(!short.contains("too-short"), "secret leaked into: {short}");
    refused(
        &[("JWT_REFRESH_SECRET", "changeme")],
        "JWT_REFRESH_SECRET",
        "at least 32",
    );
    let weak = "ChangeMe-ChangeMe-ChangeMe-ChangeMe";
    let text = refused(&[("JWT_ACCESS_SECRET", weak)], "JWT_ACCESS_SECRET", "weak");
    assert!(!text.contains(weak), "secret leaked into: {text}");
    refused(
        &[(
            "JWT_ACCESS_SECRET",
            "your-super-secret-access-key-change-in-production",
        )],
        "JWT_ACCESS_SECRET",
        "placeholder",
    );
    refused(
        &[("JWT_REFRESH_SECRET", ACCESS)],
        "JWT_REFRESH_SECRET",
        "differ",
    );
    refused(
        &[("JWT_ACCESS_SECRET_PREVIOUS", ACCESS)],
        "JWT_ACCESS_SECRET_PREVIOUS",
        "differ from JWT_ACCESS_SECRET",
    );
    refused(
        &[("JWT_REFRESH_SECRET_PREVIOUS", "short")],
        "JWT_REFRESH_SECRET_PREVIOUS",
        "32",
    );
    refused(
        &[("JWT_SIGNING_METHOD", "RS256")],
        "JWT_SIGNING_METHOD",
        "HS256",
    );
}

#[test]
fn jwt09_missing_secrets_are_both_reported() {
    let err = Settings::from_vars(Vec::<(String, String)>::new()).expect_err("refused");
    assert!(
        err.names("JWT_ACCESS_SECRET") && err.names("JWT_REFRESH_SECRET"),
        "{err}"
    );
}

#[test]
fn previous_secrets_are_accepted_when_distinct() {
    let s = load(&[
        (
            "JWT_ACCESS_SECRET_PREVIOUS",
            "m4Nb7Vc1Xz9Lk3Jh5Gf8Ds2Aq6Wp0Eoi",
        ),
        (
            "JWT_REFRESH_SECRET_PREVIOUS",
            "Zp0Oi9Uy8Tr7Ee6Ww5Qq4Aa3Ss2Dd1Ff",
        ),
    ])
    .expect("loads");
    assert!(s.jwt.access_secret_previous.is_some() && s.jwt.refresh_secret_previous.is_some());
}
/// JWT-09 companion: no secret value is visible through `Debug`.
#[test]
fn debug_output_contains_no_secret() {
    let s = load(&[
        (
            "JWT_ACCESS_SECRET_PREVIOUS",
            "m4Nb7Vc1Xz9Lk3Jh5Gf8Ds2Aq6Wp0Eoi",
        ),
        ("DB_PASSWORD", "db-password-value"),
        ("REDIS_PASSWORD", "redis-password-value"),
        ("SMTP_PASSWORD", "smtp-password-value"),
        ("EMAIL_API_KEY", "email-api-key-value"),
        ("CSRF_SECRET", "csrf-secret-value"),
        ("SSO_GITHUB_CLIENT_SECRET", "github-client-secret-value"),
        ("COGNITO_CLIENT_SECRET", "cognito-secret-value"),
        (
            "WEBHOOK_ENDPOINTS",
            "https://hooks.example.com/a?token=webhook-url-token, https://u:webhook-url-password@h.example.com/b",
        ),
        ("WEBHOOK_SECRET", "webhook-secret-value"),
        ("NATS_URL", "nats://user:nats-password-value@127.0.0.1:4222"),
    ])
    .expect("loads");
    let debug = format!("{s:?}");
    for secret in [
        ACCESS,
        REFRESH,
        "m4Nb7Vc1Xz9Lk3Jh5Gf8Ds2Aq6Wp0Eoi",
        "db-password-value",
        "redis-password-value",
        "smtp-password-value",
        "email-api-key-value",
        "csrf-secret-value",
        "github-client-secret-value",
        "cognito-secret-value",
        "webhook-secret-value",
        "webhook-url-token",
        "webhook-url-password",
        "nats-password-value",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked via Debug");
    }
    assert!(debug.contains("***"));
    let endpoints: Vec<&str> = s.webhook.endpoints.iter().map(|e| e.expose()).collect();
    assert_eq!(
        endpoints,
        [
            "https://hooks.example.com/a?token=webhook-url-token",
            "https://u:webhook-url-password@h.example.com/b"
        ]
    );
}
