//! Every bad value is refused with a message naming its variable.

use crate::{load, refused};

#[test]
fn bcrypt_cost_out_of_range_or_not_a_number() {
    for bad in ["9", "15", "abc"] {
        let text = refused(&[("BCRYPT_COST", bad)], "BCRYPT_COST", "between 10 and 14");
        assert!(text.contains(&format!("got \"{bad}\"")), "{text}");
    }
    assert_eq!(
        load(&[("BCRYPT_COST", "14")])
            .expect("14 ok")
            .auth
            .bcrypt_cost,
        14
    );
}
#[test]
fn bad_durations_name_their_variable() {
    refused(
        &[("JWT_ACCESS_EXPIRY", "15")],
        "JWT_ACCESS_EXPIRY",
        "missing unit",
    );
    refused(
        &[("AUTH_LOCKOUT_DURATION", "3d")],
        "AUTH_LOCKOUT_DURATION",
        "unknown unit",
    );
    refused(
        &[("RATE_LIMIT_WINDOW", "0")],
        "RATE_LIMIT_WINDOW",
        "greater than zero",
    );
    refused(
        &[("REVOCATION_MAX_STALENESS", "-1s")],
        "REVOCATION_MAX_STALENESS",
        "negative",
    );
}

#[test]
fn pool_bounds_and_counts() {
    refused(
        &[("DB_MAX_OPEN_CONNS", "4"), ("DB_MAX_IDLE_CONNS", "5")],
        "DB_MAX_IDLE_CONNS",
        "DB_MAX_OPEN_CONNS",
    );
    refused(
        &[("RATE_LIMIT_REQUESTS", "0")],
        "RATE_LIMIT_REQUESTS",
        "got \"0\"",
    );
    refused(
        &[("DB_SSL_MODE", "sometimes")],
        "DB_SSL_MODE",
        "verify-full",
    );
}

#[test]
fn cors_wildcard_is_refused_in_production() {
    refused(
        &[("ENVIRONMENT", "production")],
        "CORS_ORIGINS",
        "production",
    );
    refused(
        &[
            ("ENVIRONMENT", "Production"),
            ("CORS_ORIGINS", "https://a.example.com,*"),
        ],
        "CORS_ORIGINS",
        "\"*\"",
    );
    assert!(load(&[("CORS_ORIGINS", "*")]).is_ok());
}

#[test]
fn bad_cidr_and_bad_bool() {
    refused(
        &[("TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/33")],
        "TRUSTED_PROXIES",
        "10.0.0.0/33",
    );
    refused(&[("AUDIT_ENABLED", "yes")], "AUDIT_ENABLED", "boolean");
    refused(
        &[("REDIS_DISABLED", "maybe")],
        "REDIS_DISABLED",
        "got \"maybe\"",
    );
}

#[test]
fn enabled_integrations_require_their_credentials() {
    refused(
        &[("SSO_GOOGLE_ENABLED", "true")],
        "SSO_GOOGLE_CLIENT_ID",
        "SSO_GOOGLE_ENABLED",
    );
    refused(
        &[("SSO_APPLE_ENABLED", "1")],
        "SSO_APPLE_PRIVATE_KEY",
        "required",
    );
    refused(
        &[("COGNITO_AUTO_MIGRATE_ENABLED", "true")],
        "COGNITO_USER_POOL_ID",
        "required",
    );
    refused(
        &[("WEBHOOK_ENDPOINTS", "https://hooks.example.com/a")],
        "WEBHOOK_SECRET",
        "required",
    );
}

#[test]
fn every_problem_is_listed() {
    let err = load(&[
        ("BCRYPT_COST", "9"),
        ("SERVER_PORT", "http"),
        ("CSRF_ENABLED", "on"),
    ])
    .expect_err("refused");
    let vars: Vec<&str> = err.problems().iter().map(|p| p.var.as_str()).collect();
    for var in ["BCRYPT_COST", "SERVER_PORT", "CSRF_ENABLED"] {
        assert!(vars.contains(&var), "{var} missing from {vars:?}");
    }
}

// A webhook URL can embed a secret: a bad entry is named by its position, never echoed.
#[test]
fn a_bad_webhook_endpoint_is_not_echoed() {
    let text = refused(
        &[
            (
                "WEBHOOK_ENDPOINTS",
                "https://ok.example.com/a, ftp://user:leak-sentinel@x.example.com/hook",
            ),
            ("WEBHOOK_SECRET", "webhook-secret-value"),
        ],
        "WEBHOOK_ENDPOINTS",
        "entry 2 is not an http(s) URL",
    );
    assert!(!text.contains("leak-sentinel"), "{text}");
    assert!(!text.contains("ftp://"), "{text}");
    assert!(!text.contains("entry 1 "), "{text}");
}
