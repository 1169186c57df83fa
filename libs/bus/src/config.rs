//! Connection and topology settings, and the names derived from the prefix.

use std::time::Duration;

use crate::error::{BusError, Result};

/// Extra time a revoked `jti` is kept beyond the access-token lifetime, to cover
/// clock skew and verifier leeway.
pub const REVOCATION_LEEWAY: Duration = Duration::from_secs(60);

/// Settings for [`crate::Bus`]. A plain struct: fill it from the service settings.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// NATS server URL(s), comma-separated, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// Prefix for subjects, stream and bucket names (`""` in production; random in tests).
    /// Only ASCII letters, digits, `_` and `-`.
    pub prefix: String,
    /// Connection name shown by the server's monitoring.
    pub client_name: String,
    /// Timeout for JetStream API requests and publish acknowledgements.
    pub request_timeout: Duration,
    /// Upper bound of the reconnect back-off (the client retries forever).
    pub max_reconnect_delay: Duration,
    /// How long the `AUDIT` stream keeps messages (sized for a consumer outage).
    pub audit_max_age: Duration,
    /// Byte limit of the `AUDIT` stream; beyond it publishes fail (`DiscardNew`), `-1` = none.
    pub audit_max_bytes: i64,
    /// De-duplication window of the `AUDIT` stream (`Nats-Msg-Id`).
    pub duplicate_window: Duration,
    /// Access-token lifetime: revoked `jti` keys live this long plus [`REVOCATION_LEEWAY`].
    pub access_token_ttl: Duration,
}

impl BusConfig {
    /// Defaults for everything but the URL and the prefix.
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: prefix.into(),
            client_name: "auth-bus".to_owned(),
            request_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
            audit_max_age: Duration::from_secs(14 * 24 * 3600),
            audit_max_bytes: 1024 * 1024 * 1024,
            duplicate_window: Duration::from_secs(120),
            access_token_ttl: Duration::from_secs(15 * 60),
        }
    }

    /// Checks the prefix and sizes before anything touches the network.
    pub fn validate(&self) -> Result<()> {
        let prefix_ok = self
            .prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !prefix_ok {
            return Err(BusError::Config(
                "prefix may only hold ASCII letters, digits, '_' and '-'".to_owned(),
            ));
        }
        if self.url.trim().is_empty() {
            return Err(BusError::Config("NATS url is empty".to_owned()));
        }
        if self.request_timeout.is_zero() || self.access_token_ttl.is_zero() {
            return Err(BusError::Config(
                "request_timeout and access_token_ttl must be positive".to_owned(),
            ));
        }
        if self.audit_max_bytes == 0 || self.audit_max_bytes < -1 {
            return Err(BusError::Config(
                "audit_max_bytes must be positive or -1".to_owned(),
            ));
        }
        Ok(())
    }

    /// Name of the audit stream: `<prefix>AUDIT`.
    pub fn audit_stream(&self) -> String {
        format!("{}AUDIT", self.prefix)
    }

    /// Subject filter of the audit stream: `<prefix>audit.>`.
    pub fn audit_subjects(&self) -> String {
        format!("{}audit.>", self.prefix)
    }

    /// Full subject for an outbox topic: `<prefix><topic>`.
    pub fn subject(&self, topic: &str) -> String {
        format!("{}{}", self.prefix, topic)
    }

    /// Name of the token-version bucket: `<prefix>token_versions`.
    pub fn token_versions_bucket(&self) -> String {
        token_versions_bucket(&self.prefix)
    }

    /// Name of the revoked-jti bucket: `<prefix>revoked_jti`.
    pub fn revoked_jti_bucket(&self) -> String {
        revoked_jti_bucket(&self.prefix)
    }
}

/// Token-version bucket name for a prefix (key = user id, value = decimal version).
pub fn token_versions_bucket(prefix: &str) -> String {
    format!("{prefix}token_versions")
}

/// Revoked-jti bucket name for a prefix (key = jti, any value).
pub fn revoked_jti_bucket(prefix: &str) -> String {
    format!("{prefix}revoked_jti")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix() {
        let cfg = BusConfig::new("nats://x", "t1_");
        assert_eq!(cfg.audit_stream(), "t1_AUDIT");
        assert_eq!(cfg.audit_subjects(), "t1_audit.>");
        assert_eq!(cfg.subject("audit.login.success"), "t1_audit.login.success");
        assert_eq!(cfg.token_versions_bucket(), "t1_token_versions");
        assert_eq!(cfg.revoked_jti_bucket(), "t1_revoked_jti");
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn bad_prefix_is_refused() {
        for p in ["a.b", "a b", "a>", "é"] {
            assert!(BusConfig::new("nats://x", p).validate().is_err(), "{p}");
        }
    }
}
