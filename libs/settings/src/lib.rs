//! Typed configuration for every auth-platform binary, read once from the environment.
//!
//! [`Settings::from_env`] (or [`Settings::from_vars`] in tests) reads the variables below,
//! applies the defaults of contract §7.1 (lockout 5 / 15m per decision §9.2), validates
//! everything, and returns either a [`Settings`] or a [`SettingsError`] listing **every**
//! bad variable by name, e.g. `BCRYPT_COST must be an integer between 10 and 14, got "9"`.
//! Binaries print it and exit non-zero (SECURITY.md JWT-09).
//!
//! Conventions: an empty value means unset (the default applies); booleans take
//! `true`/`false`/`t`/`f`/`1`/`0` in any case; durations use Go syntax (`15m`, `168h`,
//! `1h30m`, `500ms`, see [`duration()`]); lists are comma-separated. Secrets are held in
//! [`Secret`], whose `Debug` prints `"***"`, and never appear in error messages.
//!
//! # Layout
//! - `lib.rs`: [`Settings`] and the variable table below.
//! - `server.rs`, `stores.rs` (Postgres, Redis, NATS), `jwt.rs`, `auth.rs` (auth and rate
//!   limit), `http.rs`, `email.rs`, `sso.rs`, `extras.rs` (audit, Cognito, GlobalSKU,
//!   webhooks): one section struct each.
//! - `reader.rs`: typed reads that collect problems; `duration.rs`: Go duration parser;
//!   `secret.rs`: [`Secret`]; `error.rs`: [`SettingsError`].
//!
//! # Variables
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `SERVER_HOST` / `SERVER_PORT` | `0.0.0.0` / `8080` | bind address; 8080 is the all-in-one / ingress port |
//! | `IDENTITY_PORT` `SESSION_PORT` `AUTHZ_PORT` `AUDIT_PORT` | 8081 / 8082 / 8083 / 8084 | per-service listen ports (ours) |
//! | `SERVER_READ_TIMEOUT` / `_WRITE_TIMEOUT` / `_SHUTDOWN_TIMEOUT` | 15s / 15s / 30s | |
//! | `API_PREFIX` | empty | route prefix, e.g. `/api/v1` (trailing `/` dropped) |
//! | `ENVIRONMENT` | `development` | `production` = HSTS, JSON logs, no `CORS_ORIGINS=*` |
//! | `LOG_LEVEL` | `info` | trace, debug, info, warn, error (`RUST_LOG` overrides) |
//! | `API_DOCS_ENABLED` | true, false in production | serve `/openapi.json` and `/docs` (ours) |
//! | `DATABASE_URL` | — | Postgres URL; wins over `DB_*` when set (ours) |
//! | `DB_HOST` `DB_PORT` `DB_USER` `DB_PASSWORD` `DB_NAME` `DB_SSL_MODE` | localhost, 5432, postgres, "", auth, disable | |
//! | `DB_MAX_OPEN_CONNS` / `DB_MAX_IDLE_CONNS` / `DB_CONN_MAX_LIFETIME` | 25 / 5 / 5m | idle ≤ open; lifetime 0 = never recycle |
//! | `MIGRATIONS_DIR` | `./migrations` | applied at boot |
//! | `REDIS_URL` | — | wins over `REDIS_*` when set (ours) |
//! | `REDIS_HOST` `REDIS_PORT` `REDIS_PASSWORD` `REDIS_DB` | localhost, 6379, "", 0 | |
//! | `REDIS_POOL_SIZE` / `REDIS_MIN_IDLE_CONNS` | 10 / 2 | min idle ≤ pool size |
//! | `REDIS_KEY_PREFIX` | `auth:` | prefix of every Redis key (ours) |
//! | `REDIS_DISABLED` | false | run without Redis, with the fallbacks of contract §5.4 (ours) |
//! | `NATS_URL` | `nats://127.0.0.1:4222` | JetStream server (ours) |
//! | `NATS_PREFIX` | empty | prefix for subjects, streams and buckets; `[A-Za-z0-9_-]` (ours) |
//! | `NATS_AUDIT_MAX_BYTES` | 1 GiB | byte limit of the `AUDIT` stream, reserved on disk (ours) |
//! | `REVOCATION_MAX_STALENESS` | 10s | token-version watcher may lag this much before validation fails closed (ours) |
//! | `JWT_ACCESS_SECRET` / `JWT_REFRESH_SECRET` | **required** | ≥ 32 chars, different, not weak or a placeholder |
//! | `JWT_ACCESS_SECRET_PREVIOUS` / `JWT_REFRESH_SECRET_PREVIOUS` | empty | rotation window; same checks, ≠ active |
//! | `JWT_ACCESS_EXPIRY` / `JWT_REFRESH_EXPIRY` / `JWT_REMEMBER_ME_EXPIRY` | 15m / 168h / 720h | |
//! | `JWT_ISSUER` / `JWT_AUDIENCE` | `ven-auth` / `ven-platform` | audience is a comma list; the first is required |
//! | `JWT_SIGNING_METHOD` | `HS256` | anything else is refused |
//! | `AUTH_MAX_LOGIN_ATTEMPTS` / `AUTH_LOCKOUT_DURATION` | 5 / 15m | account lockout (decision §9.2) |
//! | `AUTH_ACCOUNT_ATTEMPTS_LIMIT` / `_WINDOW` | 20 / 1h | per-account login limiter |
//! | `AUTH_PASSWORD_MIN_LENGTH` / `_MAX_LENGTH` | 8 / 128 | min ≤ max |
//! | `AUTH_PASSWORD_REQUIRE_UPPER` / `_LOWER` / `_DIGIT` / `_SPECIAL` | true / true / true / false | |
//! | `BCRYPT_COST` | 12 | 10–14 |
//! | `AUTH_PASSWORD_RESET_EXPIRY` / `AUTH_EMAIL_VERIFICATION_EXPIRY` | 1h / 24h | the latter also read as `EMAIL_VERIFICATION_EXPIRY` |
//! | `AUTH_INVITATION_EXPIRY` / `AUTH_SESSION_TIMEOUT` | 168h / 24h | |
//! | `AUTH_REFRESH_IDLE_TIMEOUT` | 0 (off) | refresh refused after this long unused |
//! | `AUTH_ALLOW_BASE_USER_LOGIN` / `AUTH_DEFAULT_APP_CODE` | false / empty | |
//! | `TOTP_ENCRYPTION_KEY` / `TOTP_ENCRYPTION_KEY_PREVIOUS` | empty: derived from `JWT_ACCESS_SECRET` | master of the TOTP-seed encryption key (≥ 32 chars, JWT secret checks); the previous one still opens older seeds (ours) |
//! | `RATE_LIMIT_REQUESTS` / `RATE_LIMIT_WINDOW` | 100 / 1m | per-IP; requests ≥ 1 |
//! | `CORS_ORIGINS` | `*` | comma list; `*` refused in production |
//! | `TRUSTED_PROXIES` | empty | CIDRs or bare IPs (/32, /128); empty = ignore `X-Forwarded-For` |
//! | `CSRF_ENABLED` / `CSRF_SECRET` | true / empty | |
//! | `EMAIL_PROVIDER` | `smtp` | `smtp`, `sendgrid` (needs `EMAIL_API_KEY`); else log only |
//! | `EMAIL_FROM_ADDRESS` / `EMAIL_FROM_NAME` | noreply@example.com / `VEN Auth` | |
//! | `EMAIL_API_KEY` / `EMAIL_TEMPLATES_PATH` | empty / `./templates/email` | |
//! | `SMTP_HOST` `SMTP_PORT` `SMTP_USER` `SMTP_PASSWORD` `SMTP_SECURE` | localhost, 587, "", "", true | |
//! | `CLIENT_URL` | — | base URL for links in emails |
//! | `AUDIT_ENABLED` / `AUDIT_BUFFER_SIZE` / `AUDIT_RETENTION` | true / 1024 / 8760h | retention is ours |
//! | `SSO_<P>_ENABLED` `_CLIENT_ID` `_CLIENT_SECRET` `_REDIRECT_URL` `_SCOPES` | false | P = GOOGLE, APPLE, MICROSOFT, GITHUB, FACEBOOK, LINKEDIN; id, redirect and secret required when enabled |
//! | default `_SCOPES` | | GOOGLE, MICROSOFT `openid,email,profile`; APPLE `name,email`; GITHUB `user:email`; FACEBOOK `email,public_profile`; LINKEDIN `openid,profile,email` |
//! | `SSO_APPLE_TEAM_ID` `_KEY_ID` `_PRIVATE_KEY` | empty | required when Apple is enabled (instead of a client secret) |
//! | `SSO_<P>_AUTH_URL` `_TOKEN_URL` `_USERINFO_URL` `_EMAILS_URL` `_JWKS_URL` `_ISSUER` | the provider's own | endpoint overrides (tests, private deployments); http(s) URLs |
//! | `SSO_CUSTOM_PROVIDERS` | empty | comma list of custom OpenID Connect provider codes (`[a-z0-9_]`); each is configured by `SSO_<CODE>_*` like a built-in one, enabled unless `_ENABLED=false`, with `_ISSUER` required (endpoints by discovery unless overridden) and `_NAME` as display label |
//! | `SSO_ALLOWED_REDIRECT_URLS` | empty (allow all) | exact URLs or `*`-suffixed prefixes |
//! | `SSO_HTTP_TIMEOUT` | 10s | bound on each call to a provider |
//! | `COGNITO_AUTO_MIGRATE_ENABLED` | false | region, pool id and client id required when true |
//! | `COGNITO_REGION` `COGNITO_USER_POOL_ID` `COGNITO_CLIENT_ID` `COGNITO_CLIENT_SECRET` | empty | |
//! | `COGNITO_ENDPOINT` | `https://cognito-idp.<region>.amazonaws.com/` | http(s) URL; our addition (emulators, VPC endpoints) |
//! | `COGNITO_TIMEOUT` | 5s | > 0; bound of each Cognito request (slower ⇒ 503); our addition |
//! | `GLOBALSKU_LEGACY_MIGRATION_ENABLED` `GLOBALSKU_BASE_URL` `GLOBALSKU_LEGACY_VERIFY_SECRET` | off | second legacy adapter |
//! | `WEBHOOK_ENDPOINTS` / `WEBHOOK_SECRET` | empty | http(s) URLs (held as secrets, never echoed); secret required when endpoints are set |

mod auth;
mod duration;
mod email;
mod error;
mod extras;
mod http;
mod jwt;
mod reader;
mod secret;
mod server;
mod sso;
mod stores;

use std::collections::HashMap;

pub use auth::{AuthSettings, PasswordPolicy, RateLimitSettings};
pub use duration::{DurationError, duration};
pub use email::{EmailSettings, SmtpSettings};
pub use error::{Problem, SettingsError};
pub use extras::{AuditSettings, CognitoSettings, GlobalSkuSettings, WebhookSettings};
pub use http::HttpSettings;
pub use jwt::{JwtSettings, MIN_SECRET_CHARS, secret_weakness};
pub use secret::Secret;
pub use server::ServerSettings;
pub use sso::{AppleSso, BUILTIN_PROVIDERS, CustomSso, SsoEndpoints, SsoProvider, SsoSettings};
pub use stores::{DatabaseSettings, NatsSettings, RedisSettings};

/// The whole configuration, one field per concern.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Listeners, timeouts, prefix, environment, log level.
    pub server: ServerSettings,
    /// Postgres.
    pub database: DatabaseSettings,
    /// Redis (optional).
    pub redis: RedisSettings,
    /// NATS JetStream.
    pub nats: NatsSettings,
    /// Token secrets and lifetimes.
    pub jwt: JwtSettings,
    /// Lockout, password policy, bcrypt, purpose-token lifetimes.
    pub auth: AuthSettings,
    /// Per-IP rate limit.
    pub rate_limit: RateLimitSettings,
    /// CORS, trusted proxies, CSRF.
    pub http: HttpSettings,
    /// Outgoing email.
    pub email: EmailSettings,
    /// Audit log.
    pub audit: AuditSettings,
    /// SSO providers.
    pub sso: SsoSettings,
    /// Cognito auto-migration.
    pub cognito: CognitoSettings,
    /// GlobalSKU legacy adapter.
    pub globalsku: GlobalSkuSettings,
    /// Audit webhooks.
    pub webhook: WebhookSettings,
}

impl Settings {
    /// Reads the process environment. Variables that are not valid UTF-8 are read lossily.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_vars(std::env::vars_os().filter_map(|(k, v)| {
            let key = k.into_string().ok()?;
            Some((key, v.to_string_lossy().into_owned()))
        }))
    }

    /// Reads the given variables only (the process environment is ignored).
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, SettingsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let map: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut env = reader::Env::new(map);
        let server = ServerSettings::load(&mut env);
        let production = server.is_production();
        let settings = Self {
            database: DatabaseSettings::load(&mut env),
            redis: RedisSettings::load(&mut env),
            nats: NatsSettings::load(&mut env),
            jwt: JwtSettings::load(&mut env),
            auth: AuthSettings::load(&mut env),
            rate_limit: RateLimitSettings::load(&mut env),
            http: HttpSettings::load(&mut env, production),
            email: EmailSettings::load(&mut env),
            audit: AuditSettings::load(&mut env),
            sso: SsoSettings::load(&mut env),
            cognito: CognitoSettings::load(&mut env),
            globalsku: GlobalSkuSettings::load(&mut env),
            webhook: WebhookSettings::load(&mut env),
            server,
        };
        if env.problems.is_empty() {
            Ok(settings)
        } else {
            Err(SettingsError::Invalid(env.problems))
        }
    }
}
