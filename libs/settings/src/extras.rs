//! [`AuditSettings`], [`CognitoSettings`], [`GlobalSkuSettings`], [`WebhookSettings`].

use std::time::Duration;

use crate::Secret;
use crate::reader::Env;

/// Audit log writer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditSettings {
    /// `AUDIT_ENABLED`.
    pub enabled: bool,
    /// `AUDIT_BUFFER_SIZE`: events queued for the async writer (≥ 1).
    pub buffer_size: usize,
    /// `AUDIT_RETENTION` (our addition): rows older than this are purged.
    pub retention: Duration,
}

impl AuditSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        Self {
            enabled: env.flag("AUDIT_ENABLED", true),
            buffer_size: env.int("AUDIT_BUFFER_SIZE", 1024, 1, 1_000_000),
            retention: env.positive_duration("AUDIT_RETENTION", Duration::from_secs(8760 * 3600)),
        }
    }
}

/// AWS Cognito auto-migration on login (contract §7.5).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CognitoSettings {
    /// `COGNITO_AUTO_MIGRATE_ENABLED`.
    pub auto_migrate_enabled: bool,
    /// `COGNITO_REGION`, e.g. `us-east-1`.
    pub region: String,
    /// `COGNITO_USER_POOL_ID`.
    pub user_pool_id: String,
    /// `COGNITO_CLIENT_ID`.
    pub client_id: String,
    /// `COGNITO_CLIENT_SECRET`: set when the app client has a secret (adds `SECRET_HASH`).
    pub client_secret: Option<Secret>,
    /// `COGNITO_ENDPOINT` (our addition): the Cognito Identity Provider API base URL;
    /// default `https://cognito-idp.<COGNITO_REGION>.amazonaws.com/` (tests point it at an
    /// emulator, private deployments at a VPC endpoint).
    pub endpoint: String,
    /// `COGNITO_TIMEOUT` (our addition, default `5s`): the bound of each Cognito request,
    /// connect included; a slower answer fails the login with 503.
    pub timeout: Duration,
}

impl CognitoSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let region = env.string("COGNITO_REGION", "");
        let endpoint = env
            .http_url("COGNITO_ENDPOINT")
            .unwrap_or_else(|| format!("https://cognito-idp.{}.amazonaws.com/", region.trim()));
        let s = Self {
            auto_migrate_enabled: env.flag("COGNITO_AUTO_MIGRATE_ENABLED", false),
            region,
            user_pool_id: env.string("COGNITO_USER_POOL_ID", ""),
            client_id: env.string("COGNITO_CLIENT_ID", ""),
            client_secret: env.secret("COGNITO_CLIENT_SECRET"),
            endpoint,
            timeout: env.positive_duration("COGNITO_TIMEOUT", Duration::from_secs(5)),
        };
        if s.auto_migrate_enabled {
            for (var, value) in [
                ("COGNITO_REGION", &s.region),
                ("COGNITO_USER_POOL_ID", &s.user_pool_id),
                ("COGNITO_CLIENT_ID", &s.client_id),
            ] {
                if value.is_empty() {
                    env.problem(var, "is required when COGNITO_AUTO_MIGRATE_ENABLED=true");
                }
            }
        }
        s
    }
}

/// The second legacy-password adapter (`GLOBALSKU_*`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GlobalSkuSettings {
    /// `GLOBALSKU_LEGACY_MIGRATION_ENABLED`.
    pub enabled: bool,
    /// `GLOBALSKU_BASE_URL`.
    pub base_url: Option<String>,
    /// `GLOBALSKU_LEGACY_VERIFY_SECRET`.
    pub verify_secret: Option<Secret>,
}

impl GlobalSkuSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let s = Self {
            enabled: env.flag("GLOBALSKU_LEGACY_MIGRATION_ENABLED", false),
            base_url: env.http_url("GLOBALSKU_BASE_URL"),
            verify_secret: env.secret("GLOBALSKU_LEGACY_VERIFY_SECRET"),
        };
        if s.enabled && s.base_url.is_none() {
            env.problem(
                "GLOBALSKU_BASE_URL",
                "is required when GLOBALSKU_LEGACY_MIGRATION_ENABLED=true",
            );
        }
        s
    }
}

/// Signed audit webhooks (`X-Vendidit-Signature`, HMAC-SHA256).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebhookSettings {
    /// `WEBHOOK_ENDPOINTS`: comma list of http(s) URLs. Kept as [`Secret`]s because such
    /// URLs often embed a token (path or query) or credentials.
    pub endpoints: Vec<Secret>,
    /// `WEBHOOK_SECRET`: HMAC key (required when endpoints are set).
    pub secret: Option<Secret>,
}

impl WebhookSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let endpoints: Vec<Secret> = env
            .list("WEBHOOK_ENDPOINTS", &[])
            .into_iter()
            .map(Secret::from)
            .collect();
        // The entry itself is never echoed: a webhook URL can carry a secret.
        for (n, e) in endpoints.iter().enumerate() {
            if !crate::reader::is_http_url(e.expose()) {
                let msg = format!("entry {} is not an http(s) URL", n + 1);
                env.problem("WEBHOOK_ENDPOINTS", msg);
            }
        }
        let secret = env.secret("WEBHOOK_SECRET");
        if !endpoints.is_empty() && secret.is_none() {
            env.problem(
                "WEBHOOK_SECRET",
                "is required when WEBHOOK_ENDPOINTS is set",
            );
        }
        Self { endpoints, secret }
    }
}
