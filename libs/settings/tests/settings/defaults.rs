//! Defaults, overrides and the URL conveniences.

use std::time::Duration;

use crate::{ACCESS, load, refused};

#[test]
fn defaults_with_only_the_two_secrets() {
    let s = load(&[]).expect("defaults load");
    assert_eq!(s.server.host, "0.0.0.0");
    assert_eq!(
        (s.server.port, s.server.identity_port, s.server.session_port),
        (8080, 8081, 8082)
    );
    assert_eq!((s.server.authz_port, s.server.audit_port), (8083, 8084));
    assert_eq!(s.server.read_timeout, Duration::from_secs(15));
    assert_eq!(s.server.shutdown_timeout, Duration::from_secs(30));
    assert_eq!(s.server.api_prefix, "");
    assert_eq!(s.server.environment, "development");
    assert!(!s.server.is_production());
    assert_eq!(s.server.log_level, "info");
    assert_eq!(
        s.database.url.expose(),
        "postgres://postgres@localhost:5432/auth?sslmode=disable"
    );
    assert_eq!(
        (s.database.max_open_conns, s.database.max_idle_conns),
        (25, 5)
    );
    assert_eq!(s.database.conn_max_lifetime, Duration::from_secs(300));
    assert_eq!(s.redis.url.expose(), "redis://localhost:6379/0");
    assert!(s.redis.enabled());
    assert_eq!((s.redis.pool_size, s.redis.min_idle_conns), (10, 2));
    assert_eq!(s.nats.url.expose(), "nats://127.0.0.1:4222");
    assert_eq!(s.nats.prefix, "");
    assert_eq!(s.nats.revocation_max_staleness, Duration::from_secs(10));
    assert_eq!(s.jwt.access_secret.expose(), ACCESS);
    assert!(s.jwt.access_secret_previous.is_none());
    assert_eq!(s.jwt.access_expiry, Duration::from_secs(15 * 60));
    assert_eq!(s.jwt.refresh_expiry, Duration::from_secs(168 * 3600));
    assert_eq!(s.jwt.remember_me_expiry, Duration::from_secs(720 * 3600));
    assert_eq!(s.jwt.issuer, "ven-auth");
    assert_eq!(s.jwt.primary_audience(), "ven-platform");
    // Decision §9.2: 5 attempts / 15 minutes, not the source's 7 / 5m.
    assert_eq!(s.auth.max_login_attempts, 5);
    assert_eq!(s.auth.lockout_duration, Duration::from_secs(15 * 60));
    assert_eq!(s.auth.account_attempts_limit, 20);
    assert_eq!(s.auth.bcrypt_cost, 12);
    assert_eq!(
        (s.auth.password.min_length, s.auth.password.max_length),
        (8, 128)
    );
    assert!(s.auth.password.require_upper && !s.auth.password.require_special);
    assert_eq!(s.auth.invitation_expiry, Duration::from_secs(168 * 3600));
    assert_eq!(s.auth.refresh_idle_timeout, None);
    assert!(!s.auth.allow_base_user_login);
    assert_eq!(s.rate_limit.requests, 100);
    assert_eq!(s.rate_limit.window, Duration::from_secs(60));
    assert_eq!(s.http.cors_origins, ["*"]);
    assert!(s.http.trusted_proxies.is_empty());
    assert!(s.http.csrf_enabled);
    assert_eq!(s.email.provider, "smtp");
    assert_eq!(s.email.from_name, "VEN Auth");
    assert_eq!((s.email.smtp.port, s.email.smtp.secure), (587, true));
    assert!(s.audit.enabled);
    assert_eq!(s.audit.buffer_size, 1024);
    assert_eq!(s.audit.retention, Duration::from_secs(8760 * 3600));
    assert!(s.sso.enabled().is_empty());
    assert_eq!(s.sso.google.scopes, ["openid", "email", "profile"]);
    assert_eq!(s.sso.apple.provider.scopes, ["name", "email"]);
    assert_eq!(s.sso.github.scopes, ["user:email"]);
    assert_eq!(s.sso.facebook.scopes, ["email", "public_profile"]);
    assert_eq!(s.sso.linkedin.scopes, ["openid", "profile", "email"]);
    assert!(!s.cognito.auto_migrate_enabled);
    assert!(s.webhook.endpoints.is_empty());
}

#[test]
fn overrides_are_read() {
    let s = load(&[
        ("API_PREFIX", "/api/v1/"),
        ("ENVIRONMENT", "production"),
        (
            "CORS_ORIGINS",
            "https://a.example.com, https://b.example.com",
        ),
        ("TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1,::1"),
        ("JWT_AUDIENCE", "ven-platform,legacy-aud"),
        ("AUTH_REFRESH_IDLE_TIMEOUT", "2h45m30s"),
        ("REDIS_DISABLED", "TRUE"),
        ("EMAIL_VERIFICATION_EXPIRY", "48h"),
        ("LOG_LEVEL", "WARNING"),
        ("NATS_PREFIX", "t_42-x"),
    ])
    .expect("loads");
    assert_eq!(s.server.api_prefix, "/api/v1");
    assert!(s.server.is_production());
    assert_eq!(s.http.cors_origins.len(), 2);
    assert!(s.http.is_trusted_proxy("10.9.8.7".parse().expect("ip")));
    assert!(s.http.is_trusted_proxy("127.0.0.1".parse().expect("ip")));
    assert!(!s.http.is_trusted_proxy("127.0.0.2".parse().expect("ip")));
    assert_eq!(s.jwt.audience, ["ven-platform", "legacy-aud"]);
    assert_eq!(s.jwt.primary_audience(), "ven-platform");
    assert_eq!(
        s.auth.refresh_idle_timeout,
        Some(Duration::from_secs(2 * 3600 + 45 * 60 + 30))
    );
    assert!(!s.redis.enabled());
    assert_eq!(
        s.auth.email_verification_expiry,
        Duration::from_secs(48 * 3600)
    );
    assert_eq!(s.server.log_level, "warn");
    assert_eq!(s.nats.prefix, "t_42-x");
}
#[test]
fn database_url_wins_over_db_parts() {
    let url = "postgres://app:pw@db.internal:6543/platform?sslmode=require";
    let s = load(&[
        ("DATABASE_URL", url),
        ("DB_HOST", "ignored"),
        ("DB_NAME", "ignored"),
    ])
    .expect("loads");
    assert_eq!(s.database.url.expose(), url);
    let s = load(&[
        ("REDIS_URL", "redis://127.0.0.1:56379/3"),
        ("REDIS_DB", "7"),
    ])
    .expect("loads");
    assert_eq!(s.redis.url.expose(), "redis://127.0.0.1:56379/3");
    refused(
        &[("DATABASE_URL", "mysql://x")],
        "DATABASE_URL",
        "postgres://",
    );
}

#[test]
fn db_parts_are_percent_encoded() {
    let s = load(&[
        ("DB_USER", "svc"),
        ("DB_PASSWORD", "p@ss:w/rd"),
        ("DB_HOST", "::1"),
        ("DB_SSL_MODE", "require"),
    ])
    .expect("loads");
    assert_eq!(
        s.database.url.expose(),
        "postgres://svc:p%40ss%3Aw%2Frd@[::1]:5432/auth?sslmode=require"
    );
}
