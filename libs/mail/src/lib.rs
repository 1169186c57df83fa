//! Outgoing mail for the auth platform: plain-text messages over SMTP (lettre, tokio), or
//! to the log when no SMTP transport is configured (contract §7.1 `EMAIL_PROVIDER`,
//! `SMTP_*`).
//!
//! [`Mailer::send`] never logs a message body in clear: the log copy (no transport, or a
//! failed send) has every `token=`/`code=` value replaced by `[redacted]`, so links that
//! carry single-use secrets do not end up in log files.
//!
//! # Layout
//! - `lib.rs`: [`MailConfig`], [`SmtpConfig`], [`Mail`], [`Mailer`], [`MailError`].
//! - `redact.rs`: [`redact_secrets`], the log copy's filter.

mod redact;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use redact::redact_secrets;

/// Upper bound on one SMTP conversation (connect, greet, send).
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Port on which `secure` means implicit TLS (SMTPS) rather than STARTTLS.
const SMTPS_PORT: u16 = 465;

/// An SMTP server.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name; empty means no authentication.
    pub user: String,
    /// Password (used with `user`).
    pub password: String,
    /// TLS: implicit on port 465, STARTTLS (required) on any other port; `false` = plain.
    pub secure: bool,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// Sender and transport.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// Sender address (`EMAIL_FROM_ADDRESS`).
    pub from_address: String,
    /// Sender display name (`EMAIL_FROM_NAME`).
    pub from_name: String,
    /// SMTP server; `None` sends every message to the log instead.
    pub smtp: Option<SmtpConfig>,
}

/// One plain-text message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The sender or recipient address is not a valid mailbox.
    #[error("invalid address: {0}")]
    Address(String),
    /// The message could not be built.
    #[error("cannot build message: {0}")]
    Build(String),
    /// The SMTP transport could not be set up (bad host for TLS, ...).
    #[error("smtp setup failed: {0}")]
    Setup(String),
    /// The SMTP conversation failed.
    #[error("smtp send failed: {0}")]
    Send(String),
}

enum Transport {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    Log,
}

/// Sends [`Mail`]s. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.is_smtp())
            .finish()
    }
}

impl Mailer {
    /// Builds the mailer; no connection is made until the first message.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let address = config
            .from_address
            .parse()
            .map_err(|_| MailError::Address(config.from_address.clone()))?;
        let name = (!config.from_name.trim().is_empty()).then(|| config.from_name.clone());
        let from = Mailbox::new(name, address);
        let transport = match &config.smtp {
            Some(smtp) => Transport::Smtp {
                transport: Box::new(smtp_transport(smtp)?),
                from,
            },
            None => Transport::Log,
        };
        Ok(Self {
            inner: Arc::new(Inner { transport }),
        })
    }

    /// The mailer the platform's settings describe (`EMAIL_PROVIDER`, `SMTP_*`,
    /// `EMAIL_FROM_*`): SMTP when the provider is `smtp`, else the log. A configuration that
    /// cannot be used is logged once as an error and falls back to the log.
    #[must_use]
    pub fn from_settings(settings: &auth_settings::Settings) -> Self {
        let email = &settings.email;
        let smtp = (email.provider == "smtp").then(|| SmtpConfig {
            host: email.smtp.host.clone(),
            port: email.smtp.port,
            user: email.smtp.user.clone(),
            password: email
                .smtp
                .password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default(),
            secure: email.smtp.secure,
        });
        let config = MailConfig {
            from_address: email.from_address.clone(),
            from_name: email.from_name.clone(),
            smtp,
        };
        Self::new(&config).unwrap_or_else(|e| {
            tracing::error!(error = %e, "mail transport unusable; mail goes to the log");
            Self::log_only()
        })
    }

    /// A mailer that writes every message to the log (cannot fail).
    #[must_use]
    pub fn log_only() -> Self {
        Self {
            inner: Arc::new(Inner {
                transport: Transport::Log,
            }),
        }
    }

    /// Whether messages go to an SMTP server (else to the log).
    #[must_use]
    pub fn is_smtp(&self) -> bool {
        matches!(self.inner.transport, Transport::Smtp { .. })
    }

    /// Sends `mail`. Without SMTP the message is logged (secrets redacted) and `Ok`.
    /// A failed SMTP send is logged the same way and returned as the error.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let Transport::Smtp { transport, from } = &self.inner.transport else {
            log_copy(mail, "mail not sent (no SMTP transport configured)");
            return Ok(());
        };
        let result = async {
            let message = build(from, mail)?;
            transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string()))
        }
        .await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "mail delivery failed");
            log_copy(mail, "undelivered mail");
        }
        result
    }
}

fn build(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| MailError::Address(mail.to.clone()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| MailError::Build(e.to_string()))
}

fn smtp_transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let setup = |e: lettre::transport::smtp::Error| MailError::Setup(e.to_string());
    let mut builder = match (smtp.secure, smtp.port) {
        (false, _) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        (true, SMTPS_PORT) => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(setup)?
        }
        (true, _) => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(setup)?
        }
    }
    .port(smtp.port)
    .timeout(Some(SMTP_TIMEOUT));
    if !smtp.user.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
    }
    Ok(builder.build())
}

fn log_copy(mail: &Mail, what: &str) {
    tracing::info!(
        to = %mail.to,
        subject = %mail.subject,
        body = %redact_secrets(&mail.text),
        "{what}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(smtp: Option<SmtpConfig>) -> MailConfig {
        MailConfig {
            from_address: "noreply@example.com".to_owned(),
            from_name: "VEN Auth".to_owned(),
            smtp,
        }
    }

    #[tokio::test]
    async fn without_smtp_mail_goes_to_the_log_and_succeeds() {
        let mailer = Mailer::new(&config(None)).expect("mailer");
        assert!(!mailer.is_smtp());
        let mail = Mail {
            to: "a@example.com".to_owned(),
            subject: "hi".to_owned(),
            text: "https://x/auth/reset?token=abc".to_owned(),
        };
        assert!(mailer.send(&mail).await.is_ok());
    }

    #[test]
    fn a_bad_sender_is_refused() {
        let mut cfg = config(None);
        cfg.from_address = "not an address".to_owned();
        assert!(matches!(Mailer::new(&cfg), Err(MailError::Address(_))));
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_not_a_panic() {
        let smtp = SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: 1,
            user: String::new(),
            password: String::new(),
            secure: false,
        };
        let mailer = Mailer::new(&config(Some(smtp))).expect("mailer");
        let mail = Mail {
            to: "a@example.com".to_owned(),
            subject: "hi".to_owned(),
            text: "body".to_owned(),
        };
        assert!(matches!(mailer.send(&mail).await, Err(MailError::Send(_))));
    }
}
