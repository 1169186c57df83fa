//! The [`Verifier`]: HS256 tokens checked against the configuration, then revocation.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::cache::{ClaimsCache, Lookup};
use crate::claims::{
    AccessClaims, Purpose, PurposeClaims, RefreshClaims, ServiceClaims, TokenType,
};
use crate::clock::Clock;
use crate::config::{ConfigError, VerifierConfig};
use crate::error::{InvalidReason, VerifyError};
use crate::jws::{KeyRing, authenticate};
use crate::purpose::purpose_secret;
use crate::revocation::{RevocationSource, TokenRef};

/// Who presented a token on a route that admits users and m2m clients alike.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per request and moved, never stored in bulk
pub enum Principal {
    /// A user's access token (already checked against revocation).
    User(AccessClaims),
    /// A service token.
    Service(ServiceClaims),
}

impl Principal {
    /// The `sub` claim: a user id or a client id.
    #[must_use]
    pub fn subject(&self) -> &str {
        match self {
            Self::User(c) => &c.sub,
            Self::Service(c) => &c.sub,
        }
    }
}

/// Verifies access, service, refresh and purpose tokens. Cheap to clone (shared inside).
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    access: KeyRing,
    refresh: Option<KeyRing>,
    reset: KeyRing,
    verify_email: KeyRing,
    issuer: String,
    audience: String,
    reset_audience: String,
    verify_audience: String,
    leeway_secs: i64,
    clock: Arc<dyn Clock>,
    revocation: Arc<dyn RevocationSource>,
    cache: ClaimsCache,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .field("rotation_window", &self.access.previous.is_some())
            .field("revocation", &self.revocation)
            .finish_non_exhaustive()
    }
}

/// Registered claims every kind shares; lets one generic path check them.
trait Registered: DeserializeOwned {
    fn issuer(&self) -> &str;
    fn audiences(&self) -> &[String];
    fn expires(&self) -> i64;
    fn not_before(&self) -> Option<i64>;
    /// Parses the payload (duplicate keys refused, JWT-11).
    fn parse(json: &[u8]) -> Result<Self, VerifyError> {
        crate::strict_json::from_slice(json).map_err(|_| InvalidReason::Claims.into())
    }
}

macro_rules! registered {
    ($t:ty, $nbf:expr $(, $fast:path)?) => {
        impl Registered for $t {
            fn issuer(&self) -> &str {
                &self.iss
            }
            fn audiences(&self) -> &[String] {
                &self.aud
            }
            fn expires(&self) -> i64 {
                self.exp
            }
            fn not_before(&self) -> Option<i64> {
                #[allow(clippy::redundant_closure_call)]
                ($nbf)(self)
            }
            $(
                fn parse(json: &[u8]) -> Result<Self, VerifyError> {
                    $fast(json)
                }
            )?
        }
    };
}

registered!(
    AccessClaims,
    |c: &AccessClaims| Some(c.nbf),
    crate::fast_claims::parse_access
);
registered!(ServiceClaims, |c: &ServiceClaims| Some(c.nbf));
registered!(RefreshClaims, |c: &RefreshClaims| Some(c.nbf));
registered!(PurposeClaims, |c: &PurposeClaims| c.nbf);

impl Verifier {
    /// Builds a verifier after validating `config` (see [`VerifierConfig::validate`]).
    /// `revocation` is consulted by [`Verifier::verify_access`] and friends; pass
    /// [`crate::NoRevocation`] to deliberately validate signatures only.
    pub fn new(
        config: VerifierConfig,
        revocation: Arc<dyn RevocationSource>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let prev = config.previous_access_secret.as_deref();
        let purpose_ring = |p: Purpose| {
            let active = purpose_secret(&config.access_secret, &config.issuer, p);
            let previous = prev.map(|m| purpose_secret(m, &config.issuer, p));
            KeyRing::new(&active, previous.as_deref())
        };
        let inner = Inner {
            access: KeyRing::new(&config.access_secret, prev),
            refresh: config
                .refresh_secret
                .as_deref()
                .map(|s| KeyRing::new(s, config.previous_refresh_secret.as_deref())),
            reset: purpose_ring(Purpose::PasswordReset),
            verify_email: purpose_ring(Purpose::EmailVerification),
            reset_audience: Purpose::PasswordReset.audience(&config.issuer),
            verify_audience: Purpose::EmailVerification.audience(&config.issuer),
            issuer: config.issuer,
            audience: config.audience,
            leeway_secs: i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX),
            cache: ClaimsCache::new(config.cache_capacity),
            clock: config.clock,
            revocation,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The revocation source this verifier consults.
    #[must_use]
    pub fn revocation(&self) -> &Arc<dyn RevocationSource> {
        &self.inner.revocation
    }

    /// The configured issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The accepted audience.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// Checks an access token's signature, type, `iss`, `aud`, `exp`, `nbf` — but NOT
    /// revocation. Prefer [`Verifier::verify_access`].
    pub fn decode_access(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let known = self.inner.cache.get(token.as_bytes());
        if let Lookup::Hit(claims) = known {
            self.check_time(claims.exp, Some(claims.nbf))?;
            return Ok(AccessClaims::clone(&claims));
        }
        // The result is checked and handed back by reference: the claims (600+ bytes) are
        // not moved between result types on the way out.
        let decoded = self.decode(
            token,
            &self.inner.access,
            &self.inner.audience,
            |c: &AccessClaims| c.token_type == TokenType::Access,
        );
        if let Ok(claims) = &decoded {
            let keep = matches!(known, Lookup::Seen).then(|| Arc::new(claims.clone()));
            self.inner.cache.insert(token.as_bytes(), keep);
        }
        decoded
    }

    /// Fully verifies a user access token, including revocation through the verifier's
    /// own source.
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        self.verify_access_with(token, self.inner.revocation.as_ref())
            .await
    }

    /// Like [`Verifier::verify_access`], consulting `revocation` instead.
    pub async fn verify_access_with(
        &self,
        token: &str,
        revocation: &dyn RevocationSource,
    ) -> Result<AccessClaims, VerifyError> {
        let decoded = self.decode_access(token);
        if let Ok(claims) = &decoded {
            check_revocation(claims, revocation).await?;
        }
        decoded
    }

    /// Verifies an m2m service token (no revocation: revoke the client and wait for expiry).
    pub fn verify_service(&self, token: &str) -> Result<ServiceClaims, VerifyError> {
        self.decode(
            token,
            &self.inner.access,
            &self.inner.audience,
            |c: &ServiceClaims| c.token_type == TokenType::Service,
        )
    }

    /// Verifies a token on a route that admits both users and services: an access token
    /// (with revocation) or a service token.
    pub async fn verify_principal(&self, token: &str) -> Result<Principal, VerifyError> {
        match self.decode_access(token) {
            Ok(claims) => {
                check_revocation(&claims, self.inner.revocation.as_ref()).await?;
                Ok(Principal::User(claims))
            }
            // A service token fails the access parse (no `uid`/`email`) or its type check.
            Err(VerifyError::Invalid(InvalidReason::Claims | InvalidReason::TokenType)) => {
                self.verify_service(token).map(Principal::Service)
            }
            Err(e) => Err(e),
        }
    }

    /// Verifies a refresh token with the refresh secrets. Without a configured refresh
    /// secret every refresh token is `Invalid(Signature)`.
    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, VerifyError> {
        let Some(keys) = &self.inner.refresh else {
            return Err(InvalidReason::Signature.into());
        };
        self.decode(token, keys, &self.inner.audience, |_: &RefreshClaims| true)
    }

    /// Verifies a password-reset or email-verification token for `purpose`.
    pub fn verify_purpose(
        &self,
        token: &str,
        purpose: Purpose,
    ) -> Result<PurposeClaims, VerifyError> {
        let (keys, aud) = match purpose {
            Purpose::PasswordReset => (&self.inner.reset, &self.inner.reset_audience),
            Purpose::EmailVerification => (&self.inner.verify_email, &self.inner.verify_audience),
        };
        self.decode(token, keys, aud, |c: &PurposeClaims| c.purpose == purpose)
    }

    fn decode<T: Registered>(
        &self,
        token: &str,
        keys: &KeyRing,
        audience: &str,
        kind_ok: impl Fn(&T) -> bool,
    ) -> Result<T, VerifyError> {
        let parsed = authenticate(token.as_bytes(), keys, T::parse);
        if let Ok(claims) = &parsed {
            if !kind_ok(claims) {
                return Err(InvalidReason::TokenType.into());
            }
            if claims.issuer() != self.inner.issuer {
                return Err(InvalidReason::Issuer.into());
            }
            if !claims.audiences().iter().any(|a| a == audience) {
                return Err(InvalidReason::Audience.into());
            }
            self.check_time(claims.expires(), claims.not_before())?;
        }
        parsed
    }

    /// `exp` (plus leeway) must not have passed; `nbf` (minus leeway) must have.
    fn check_time(&self, exp: i64, nbf: Option<i64>) -> Result<(), VerifyError> {
        let now = self.inner.clock.now_secs();
        let leeway = self.inner.leeway_secs;
        if exp.saturating_add(leeway) < now {
            return Err(VerifyError::Expired);
        }
        if nbf.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
            return Err(InvalidReason::NotYetValid.into());
        }
        Ok(())
    }
}

async fn check_revocation(
    claims: &AccessClaims,
    source: &dyn RevocationSource,
) -> Result<(), VerifyError> {
    let token = TokenRef {
        user_id: &claims.uid,
        jti: &claims.jti,
        token_version: claims.tv,
        session_id: &claims.session_id,
    };
    let revoked = match source.is_revoked_now(token) {
        Some(answer) => answer?,
        None => source.is_revoked(token).await?,
    };
    if revoked {
        Err(VerifyError::Revoked)
    } else {
        Ok(())
    }
}
