//! Service (m2m, §3.2) and purpose (§3.4) tokens.

use std::time::Duration;

use jwt_verify::{Purpose, PurposeClaims, ServiceClaims, TokenType};
use uuid::Uuid;

use super::{TokenSigner, encode};
use crate::error::SignError;
use crate::time::{Now, rfc3339_secs, ttl_secs};

/// A signed service token and what the `/oauth/token` reply needs about it.
#[derive(Clone, Debug)]
pub struct ServiceToken {
    /// The compact JWS.
    pub token: String,
    /// The signed claims.
    pub claims: ServiceClaims,
    /// Lifetime in seconds (`expires_in`).
    pub expires_in: i64,
    /// Expiry, RFC 3339 seconds precision UTC (`expires_at`).
    pub expires_at: String,
}

impl TokenSigner {
    /// Signs an m2m service token (§3.2) with `JWT_ACCESS_SECRET`: `sub` = `client_id`,
    /// `token_type:"service"`, empty `roles`/`permissions`, no user fields, no `tv`.
    pub fn sign_service(
        &self,
        client_id: &str,
        service_name: &str,
        scopes: &[String],
        ttl: Duration,
    ) -> Result<ServiceToken, SignError> {
        let now = Now::read(self.inner.clock.as_ref())?;
        let exp = now.plus(ttl)?;
        let claims = ServiceClaims {
            iss: self.inner.issuer.clone(),
            sub: client_id.to_owned(),
            aud: self.inner.audience.clone(),
            exp,
            nbf: now.secs,
            iat: now.secs,
            jti: Uuid::new_v4().to_string(),
            token_type: TokenType::Service,
            client_id: client_id.to_owned(),
            service_name: service_name.to_owned(),
            scopes: scopes.to_vec(),
            roles: Vec::new(),
            permissions: Vec::new(),
        };
        let token = encode(&claims, &self.inner.access_key)?;
        Ok(ServiceToken {
            token,
            claims,
            expires_in: ttl_secs(ttl),
            expires_at: rfc3339_secs(exp).ok_or(SignError::ClockOutOfRange)?,
        })
    }

    /// Signs a password-reset or email-verification token (§3.4): audience
    /// `<iss>:reset` / `<iss>:verify`, `jti` = the token row id, no `nbf`, signed with the
    /// purpose secret derived from `JWT_ACCESS_SECRET` ([`jwt_verify::purpose_secret`]).
    pub fn sign_purpose(
        &self,
        purpose: Purpose,
        user_id: Uuid,
        email: &str,
        row_id: Uuid,
        ttl: Duration,
    ) -> Result<String, SignError> {
        let now = Now::read(self.inner.clock.as_ref())?;
        let uid = user_id.to_string();
        let claims = PurposeClaims {
            iss: self.inner.issuer.clone(),
            sub: uid.clone(),
            aud: vec![purpose.audience(&self.inner.issuer)],
            exp: now.plus(ttl)?,
            nbf: None,
            iat: now.secs,
            jti: row_id.to_string(),
            uid,
            email: email.to_owned(),
            purpose,
        };
        let key = match purpose {
            Purpose::PasswordReset => &self.inner.reset_key,
            Purpose::EmailVerification => &self.inner.verify_key,
        };
        encode(&claims, key)
    }
}
