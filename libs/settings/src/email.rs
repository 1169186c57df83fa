//! [`EmailSettings`]: outgoing mail provider, sender, SMTP, link base URL.

use crate::Secret;
use crate::reader::Env;

/// SMTP transport (`SMTP_*`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SmtpSettings {
    /// `SMTP_HOST`.
    pub host: String,
    /// `SMTP_PORT`.
    pub port: u16,
    /// `SMTP_USER`: empty = no authentication.
    pub user: String,
    /// `SMTP_PASSWORD`.
    pub password: Option<Secret>,
    /// `SMTP_SECURE`: use TLS.
    pub secure: bool,
}

/// Outgoing email.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmailSettings {
    /// `EMAIL_PROVIDER` (lower case): `smtp`, `sendgrid`; anything else logs instead of sending.
    pub provider: String,
    /// `EMAIL_FROM_ADDRESS`.
    pub from_address: String,
    /// `EMAIL_FROM_NAME`.
    pub from_name: String,
    /// `EMAIL_API_KEY`: provider API key (sendgrid).
    pub api_key: Option<Secret>,
    /// `EMAIL_TEMPLATES_PATH`: directory of email templates.
    pub templates_path: String,
    /// SMTP transport.
    pub smtp: SmtpSettings,
    /// `CLIENT_URL`: fallback base URL for links in emails.
    pub client_url: Option<String>,
}

impl EmailSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let provider = env.string("EMAIL_PROVIDER", "smtp").to_ascii_lowercase();
        let from_address = env.string("EMAIL_FROM_ADDRESS", "noreply@example.com");
        if !from_address.contains('@') || from_address.chars().any(char::is_whitespace) {
            let msg = format!("must be an email address, got {from_address:?}");
            env.problem("EMAIL_FROM_ADDRESS", msg);
        }
        let api_key = env.secret("EMAIL_API_KEY");
        if provider == "sendgrid" && api_key.is_none() {
            env.problem("EMAIL_API_KEY", "is required when EMAIL_PROVIDER=sendgrid");
        }
        Self {
            provider,
            from_address,
            from_name: env.string("EMAIL_FROM_NAME", "VEN Auth"),
            api_key,
            templates_path: env.string("EMAIL_TEMPLATES_PATH", "./templates/email"),
            smtp: SmtpSettings {
                host: env.string("SMTP_HOST", "localhost"),
                port: env.int("SMTP_PORT", 587, 1, u16::MAX),
                user: env.string("SMTP_USER", ""),
                password: env.secret("SMTP_PASSWORD"),
                secure: env.flag("SMTP_SECURE", true),
            },
            client_url: env.http_url("CLIENT_URL"),
        }
    }
}
