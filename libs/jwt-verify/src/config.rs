//! Verifier configuration and its boot-time checks (contract §5.7, §7.1; JWT-09).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// Default `JWT_ISSUER`.
pub const DEFAULT_ISSUER: &str = "ven-auth";
/// Default (first) `JWT_AUDIENCE` value.
pub const DEFAULT_AUDIENCE: &str = "ven-platform";
/// Default clock leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Largest leeway accepted (JWT-04: at most 60 s).
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);
/// Default number of verified access tokens remembered by a verifier.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;
/// Shortest accepted HS256 secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

const WEAK_VALUES: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "changethis",
    "test",
    "password",
    "insecure",
    "default",
];
const PLACEHOLDER_PARTS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "replace-me",
    "replaceme",
    "placeholder",
];

/// A configuration problem; the embedding service should refuse to start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A secret is too short or a known placeholder.
    #[error("{var} is too weak: {reason}")]
    WeakSecret {
        /// The variable (or slot) name.
        var: &'static str,
        /// What is wrong with it (never the value).
        reason: &'static str,
    },
    /// A `_PREVIOUS` slot holds the same value as its active slot.
    #[error("{0} must differ from the active secret")]
    PreviousEqualsActive(&'static str),
    /// The access and refresh secrets are the same.
    #[error("JWT_ACCESS_SECRET and JWT_REFRESH_SECRET must differ")]
    AccessEqualsRefresh,
    /// The leeway is above [`MAX_LEEWAY`].
    #[error("leeway must be at most 60 seconds")]
    LeewayTooLarge,
}

/// Everything a [`crate::Verifier`] needs besides its revocation source.
#[derive(Clone)]
pub struct VerifierConfig {
    /// `JWT_ACCESS_SECRET`: verifies access and service tokens and derives purpose secrets.
    pub access_secret: Vec<u8>,
    /// `JWT_ACCESS_SECRET_PREVIOUS`: tried only when the active secret's signature mismatches.
    pub previous_access_secret: Option<Vec<u8>>,
    /// `JWT_REFRESH_SECRET`: needed only by [`crate::Verifier::verify_refresh`].
    pub refresh_secret: Option<Vec<u8>>,
    /// `JWT_REFRESH_SECRET_PREVIOUS`.
    pub previous_refresh_secret: Option<Vec<u8>>,
    /// Expected `iss` (`JWT_ISSUER`, default `ven-auth`).
    pub issuer: String,
    /// The audience this service accepts (first value of `JWT_AUDIENCE`, default `ven-platform`).
    pub audience: String,
    /// Clock leeway for `exp`/`nbf` (default 30 s, at most 60 s).
    pub leeway: Duration,
    /// Time source (the system clock unless a test injects one).
    pub clock: Arc<dyn Clock>,
    /// How many verified access tokens to remember (default 1024; 0 disables the cache).
    /// A remembered token skips the signature check and parse when presented again; its
    /// expiry and revocation are still checked every time.
    pub cache_capacity: usize,
}

impl fmt::Debug for VerifierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierConfig")
            .field("access_secret", &"<redacted>")
            .field(
                "previous_access_secret",
                &self.previous_access_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "refresh_secret",
                &self.refresh_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "previous_refresh_secret",
                &self.previous_refresh_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

impl VerifierConfig {
    /// A configuration with the given access secret, issuer and audience, no previous or
    /// refresh secret, the default leeway and the system clock.
    pub fn new(
        access_secret: impl Into<Vec<u8>>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            access_secret: access_secret.into(),
            previous_access_secret: None,
            refresh_secret: None,
            previous_refresh_secret: None,
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: DEFAULT_LEEWAY,
            clock: Arc::new(SystemClock),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
        }
    }

    /// Reads `JWT_ACCESS_SECRET`, `JWT_ACCESS_SECRET_PREVIOUS`, `JWT_REFRESH_SECRET`,
    /// `JWT_REFRESH_SECRET_PREVIOUS`, `JWT_ISSUER` and `JWT_AUDIENCE` (first value of the comma
    /// list) from the environment, and validates them.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`VerifierConfig::from_env`], with variables read through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let access =
            non_empty("JWT_ACCESS_SECRET").ok_or(ConfigError::Missing("JWT_ACCESS_SECRET"))?;
        let issuer = non_empty("JWT_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let audience = non_empty("JWT_AUDIENCE")
            .and_then(|v| {
                v.split(',')
                    .map(str::trim)
                    .find(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned());
        let mut cfg = Self::new(access, issuer.trim(), audience);
        cfg.previous_access_secret =
            non_empty("JWT_ACCESS_SECRET_PREVIOUS").map(String::into_bytes);
        cfg.refresh_secret = non_empty("JWT_REFRESH_SECRET").map(String::into_bytes);
        cfg.previous_refresh_secret =
            non_empty("JWT_REFRESH_SECRET_PREVIOUS").map(String::into_bytes);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Sets the previous access secret (rotation window).
    #[must_use]
    pub fn with_previous_secret(mut self, previous: impl Into<Vec<u8>>) -> Self {
        self.previous_access_secret = Some(previous.into());
        self
    }

    /// Sets the refresh secrets (active and optional previous).
    #[must_use]
    pub fn with_refresh_secrets(
        mut self,
        active: impl Into<Vec<u8>>,
        previous: Option<Vec<u8>>,
    ) -> Self {
        self.refresh_secret = Some(active.into());
        self.previous_refresh_secret = previous;
        self
    }

    /// Sets the clock leeway.
    #[must_use]
    pub const fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the verified-token cache size (0 disables it).
    #[must_use]
    pub const fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Sets the time source.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the §5.7 boot rules: active secret present, every secret at least 32 bytes and
    /// not a placeholder, previous slots different from their active ones, access different
    /// from refresh, non-empty issuer and audience, leeway at most 60 s.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_secret("JWT_ACCESS_SECRET", &self.access_secret)?;
        if let Some(prev) = &self.previous_access_secret {
            check_secret("JWT_ACCESS_SECRET_PREVIOUS", prev)?;
            if prev == &self.access_secret {
                return Err(ConfigError::PreviousEqualsActive(
                    "JWT_ACCESS_SECRET_PREVIOUS",
                ));
            }
        }
        if let Some(refresh) = &self.refresh_secret {
            check_secret("JWT_REFRESH_SECRET", refresh)?;
            if refresh == &self.access_secret {
                return Err(ConfigError::AccessEqualsRefresh);
            }
            if let Some(prev) = &self.previous_refresh_secret {
                check_secret("JWT_REFRESH_SECRET_PREVIOUS", prev)?;
                if prev == refresh {
                    return Err(ConfigError::PreviousEqualsActive(
                        "JWT_REFRESH_SECRET_PREVIOUS",
                    ));
                }
            }
        } else if self.previous_refresh_secret.is_some() {
            return Err(ConfigError::Missing("JWT_REFRESH_SECRET"));
        }
        if self.issuer.is_empty() {
            return Err(ConfigError::Missing("JWT_ISSUER"));
        }
        if self.audience.is_empty() {
            return Err(ConfigError::Missing("JWT_AUDIENCE"));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        Ok(())
    }
}

fn check_secret(var: &'static str, secret: &[u8]) -> Result<(), ConfigError> {
    if secret.is_empty() {
        return Err(ConfigError::Missing(var));
    }
    let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
    if WEAK_VALUES.contains(&lower.trim()) || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) {
        return Err(ConfigError::WeakSecret {
            var,
            reason: "a known placeholder value",
        });
    }
    if secret.len() < MIN_SECRET_LEN {
        return Err(ConfigError::WeakSecret {
            var,
            reason: "shorter than 32 bytes",
        });
    }
    Ok(())
}
