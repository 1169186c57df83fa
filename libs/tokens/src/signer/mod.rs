//! [`TokenSigner`]: HS256 signing of access and refresh tokens with claims exactly as
//! contract §3.1 and §3.3 list them; service and purpose tokens live in `other`.

mod other;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_verify::{
    AccessClaims, Clock, ConfigError, Purpose, RefreshClaims, TokenType, purpose_secret,
};
use serde::Serialize;
use uuid::Uuid;

use crate::apps::AppScope;
use crate::config::{SignerConfig, SignerConfigError};
use crate::error::SignError;
use crate::grants::Grants;
use crate::subject::{Impersonator, UserIdentity};
use crate::time::ttl_secs;

pub use other::ServiceToken;

/// The pool whose name is left out of access tokens.
const DEFAULT_NAMESPACE: &str = "default";

/// Signs every token kind the platform issues. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct TokenSigner {
    inner: Arc<Inner>,
}

struct Inner {
    access_key: EncodingKey,
    refresh_key: EncodingKey,
    reset_key: EncodingKey,
    verify_key: EncodingKey,
    issuer: String,
    audience: Vec<String>,
    access_ttl: Duration,
    refresh_ttl: Duration,
    remember_me_ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("access_ttl", &self.inner.access_ttl)
            .field("refresh_ttl", &self.inner.refresh_ttl)
            .field("remember_me_ttl", &self.inner.remember_me_ttl)
            .finish_non_exhaustive()
    }
}

/// The inputs of an access token besides the clock.
#[derive(Clone, Copy, Debug)]
pub struct AccessSpec<'a> {
    /// The user the token is for.
    pub user: &'a UserIdentity,
    /// Roles, permissions and org scope (from [`crate::assemble`]).
    pub grants: &'a Grants,
    /// App scope; `None` in base-user mode (no `app_id`/`app_code` claims).
    pub app: Option<&'a AppScope>,
    /// The sessions-row id (`session_id`).
    pub session_id: Uuid,
    /// Whether the login asked to be remembered.
    pub remember_me: bool,
    /// The acting admin under impersonation.
    pub impersonator: Option<&'a Impersonator>,
}

/// The inputs of a refresh token besides the clock.
#[derive(Clone, Copy, Debug)]
pub struct RefreshSpec<'a> {
    /// The user the token is for.
    pub user_id: Uuid,
    /// The stored `refresh_tokens` row id (`jti` and `tid`).
    pub row_id: Uuid,
    /// The org scope, re-applied on refresh.
    pub org_id: Option<Uuid>,
    /// Whether the login asked to be remembered (selects the lifetime).
    pub remember_me: bool,
    /// The app code, re-applied on refresh; `None` in base-user mode.
    pub app_code: Option<&'a str>,
}

impl TokenSigner {
    /// Builds a signer after validating `config` ([`SignerConfig::validate`]).
    pub fn new(config: SignerConfig, clock: Arc<dyn Clock>) -> Result<Self, SignerConfigError> {
        config.validate()?;
        let access = "JWT_ACCESS_SECRET";
        let purpose_key = |p: Purpose| {
            hmac_key(
                &purpose_secret(&config.access_secret, &config.issuer, p),
                access,
            )
        };
        let inner = Inner {
            access_key: hmac_key(&config.access_secret, access)?,
            refresh_key: hmac_key(&config.refresh_secret, "JWT_REFRESH_SECRET")?,
            reset_key: purpose_key(Purpose::PasswordReset)?,
            verify_key: purpose_key(Purpose::EmailVerification)?,
            issuer: config.issuer,
            audience: config.audience,
            access_ttl: config.access_ttl,
            refresh_ttl: config.refresh_ttl,
            remember_me_ttl: config.remember_me_ttl,
            clock,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The injected time source.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The `iss` of every token.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The `aud` list of access, refresh and service tokens.
    #[must_use]
    pub fn audience(&self) -> &[String] {
        &self.inner.audience
    }

    /// Lifetime of access (and service) tokens.
    #[must_use]
    pub fn access_ttl(&self) -> Duration {
        self.inner.access_ttl
    }

    /// Lifetime of a refresh token: the remember-me lifetime when `remember_me`.
    #[must_use]
    pub fn refresh_ttl(&self, remember_me: bool) -> Duration {
        if remember_me {
            self.inner.remember_me_ttl
        } else {
            self.inner.refresh_ttl
        }
    }

    /// The §3.1 claims of an access token issued at `iat` (unix s), with a random `jti`.
    pub fn access_claims(
        &self,
        spec: &AccessSpec<'_>,
        iat: i64,
    ) -> Result<AccessClaims, SignError> {
        let exp = iat
            .checked_add(ttl_secs(self.inner.access_ttl))
            .ok_or(SignError::ClockOutOfRange)?;
        let user = spec.user;
        let org = spec.grants.organization.as_ref();
        let uid = user.id.to_string();
        Ok(AccessClaims {
            iss: self.inner.issuer.clone(),
            sub: uid.clone(),
            aud: self.inner.audience.clone(),
            exp,
            nbf: iat,
            iat,
            jti: Uuid::new_v4().to_string(),
            uid,
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            display_name: user.display_name.clone(),
            org_id: org.map(|o| o.id.to_string()).unwrap_or_default(),
            org_slug: org.map(|o| o.slug.clone()).unwrap_or_default(),
            org_name: org.map(|o| o.name.clone()).unwrap_or_default(),
            roles: spec.grants.roles.clone(),
            permissions: spec.grants.permissions.clone(),
            token_type: TokenType::Access,
            session_id: spec.session_id.to_string(),
            remember_me: spec.remember_me,
            auth_provider: user.auth_provider.clone(),
            // a negative version never occurs (forward-only counter); treat it as none
            tv: u64::try_from(user.token_version).unwrap_or(0),
            app_id: spec.app.map(|a| a.id.to_string()).unwrap_or_default(),
            app_code: spec.app.map(|a| a.code.clone()).unwrap_or_default(),
            namespace: if user.namespace == DEFAULT_NAMESPACE {
                String::new()
            } else {
                user.namespace.clone()
            },
            imp_uid: spec
                .impersonator
                .map(|i| i.user_id.to_string())
                .unwrap_or_default(),
            imp_email: spec
                .impersonator
                .map(|i| i.email.clone())
                .unwrap_or_default(),
        })
    }

    /// The §3.3 claims of a refresh token issued at `iat` (unix s): `jti` = `tid` = row id.
    pub fn refresh_claims(
        &self,
        spec: &RefreshSpec<'_>,
        iat: i64,
    ) -> Result<RefreshClaims, SignError> {
        let exp = iat
            .checked_add(ttl_secs(self.refresh_ttl(spec.remember_me)))
            .ok_or(SignError::ClockOutOfRange)?;
        let uid = spec.user_id.to_string();
        let row = spec.row_id.to_string();
        Ok(RefreshClaims {
            iss: self.inner.issuer.clone(),
            sub: uid.clone(),
            aud: self.inner.audience.clone(),
            exp,
            nbf: iat,
            iat,
            jti: row.clone(),
            uid,
            org_id: spec.org_id.map(|o| o.to_string()).unwrap_or_default(),
            tid: row,
            remember_me: spec.remember_me,
            app_code: spec.app_code.map(str::to_owned).unwrap_or_default(),
        })
    }

    /// Signs access claims with `JWT_ACCESS_SECRET`.
    pub fn encode_access(&self, claims: &AccessClaims) -> Result<String, SignError> {
        encode(claims, &self.inner.access_key)
    }

    /// Signs refresh claims with `JWT_REFRESH_SECRET`.
    pub fn encode_refresh(&self, claims: &RefreshClaims) -> Result<String, SignError> {
        encode(claims, &self.inner.refresh_key)
    }
}

/// An HS256 key (`jsonwebtoken` refuses only empty secrets, which validation already did).
fn hmac_key(secret: &[u8], var: &'static str) -> Result<EncodingKey, SignerConfigError> {
    EncodingKey::from_secret(secret)
        .map_err(|_| SignerConfigError::Secrets(ConfigError::Missing(var)))
}

/// HS256 compact JWS with the header `{"typ":"JWT","alg":"HS256"}` (no `kid`, §3.1).
fn encode<T: Serialize>(claims: &T, key: &EncodingKey) -> Result<String, SignError> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        key,
    )?)
}
