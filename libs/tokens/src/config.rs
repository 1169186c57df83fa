//! [`SignerConfig`]: secrets, issuer, audiences and lifetimes of issued tokens.

use std::fmt;
use std::time::Duration;

use jwt_verify::{ConfigError, VerifierConfig};

/// Default `JWT_ACCESS_EXPIRY` (15 min).
pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// Default `JWT_REFRESH_EXPIRY` (168 h).
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(168 * 3600);
/// Default `JWT_REMEMBER_ME_EXPIRY` (720 h).
pub const DEFAULT_REMEMBER_ME_TTL: Duration = Duration::from_secs(720 * 3600);

/// Everything a [`crate::TokenSigner`] needs besides its clock.
#[derive(Clone)]
pub struct SignerConfig {
    /// `JWT_ACCESS_SECRET`: signs access and service tokens, derives purpose secrets.
    pub access_secret: Vec<u8>,
    /// `JWT_REFRESH_SECRET`: signs refresh tokens.
    pub refresh_secret: Vec<u8>,
    /// `JWT_ISSUER` (`iss`).
    pub issuer: String,
    /// `JWT_AUDIENCE` list (`aud`); validators require the first value.
    pub audience: Vec<String>,
    /// `JWT_ACCESS_EXPIRY`.
    pub access_ttl: Duration,
    /// `JWT_REFRESH_EXPIRY`.
    pub refresh_ttl: Duration,
    /// `JWT_REMEMBER_ME_EXPIRY` (refresh lifetime when `remember_me`).
    pub remember_me_ttl: Duration,
}

impl fmt::Debug for SignerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerConfig")
            .field("access_secret", &"<redacted>")
            .field("refresh_secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("remember_me_ttl", &self.remember_me_ttl)
            .finish()
    }
}

/// A signer configuration that must not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerConfigError {
    /// A secret, the issuer or the first audience breaks the §5.7 boot rules (same checks as
    /// the verifier's).
    #[error(transparent)]
    Secrets(#[from] ConfigError),
    /// `audience` is empty or its first value is blank.
    #[error("JWT_AUDIENCE must name at least one audience")]
    EmptyAudience,
    /// A lifetime is zero.
    #[error("{0} must be positive")]
    ZeroLifetime(&'static str),
}

impl SignerConfig {
    /// A configuration with the contract's default lifetimes.
    pub fn new(
        access_secret: impl Into<Vec<u8>>,
        refresh_secret: impl Into<Vec<u8>>,
        issuer: impl Into<String>,
        audience: Vec<String>,
    ) -> Self {
        Self {
            access_secret: access_secret.into(),
            refresh_secret: refresh_secret.into(),
            issuer: issuer.into(),
            audience,
            access_ttl: DEFAULT_ACCESS_TTL,
            refresh_ttl: DEFAULT_REFRESH_TTL,
            remember_me_ttl: DEFAULT_REMEMBER_ME_TTL,
        }
    }

    /// Checks secrets (present, ≥ 32 bytes, no placeholder, access ≠ refresh), issuer,
    /// audience and lifetimes.
    pub fn validate(&self) -> Result<(), SignerConfigError> {
        let first = self
            .audience
            .first()
            .filter(|a| !a.trim().is_empty())
            .ok_or(SignerConfigError::EmptyAudience)?;
        VerifierConfig::new(
            self.access_secret.clone(),
            self.issuer.clone(),
            first.clone(),
        )
        .with_refresh_secrets(self.refresh_secret.clone(), None)
        .validate()?;
        for (name, ttl) in [
            ("JWT_ACCESS_EXPIRY", self.access_ttl),
            ("JWT_REFRESH_EXPIRY", self.refresh_ttl),
            ("JWT_REMEMBER_ME_EXPIRY", self.remember_me_ttl),
        ] {
            if ttl.as_secs() == 0 {
                return Err(SignerConfigError::ZeroLifetime(name));
            }
        }
        Ok(())
    }
}
