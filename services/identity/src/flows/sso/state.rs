//! The short-lived records of an SSO flow (§5.5): the flow record behind our `state`
//! (10 min, single use) and the one-shot `auth_code` handed to a PKCE client (60 s). Both
//! live in [`auth_cache::Cache`] (Redis, or the in-process store without it).

use std::time::Duration;

use auth_cache::{Cache, Fallback};
use auth_edge::{ApiError, ErrorCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::error::internal;
use crate::flows::common::random_bytes;

/// How long a flow record (our `state`) lives (§9.9).
pub const STATE_TTL: Duration = Duration::from_secs(600);
/// How long a PKCE `auth_code` lives (§5.5).
pub const AUTH_CODE_TTL: Duration = Duration::from_secs(60);

/// What `POST /auth/sso/url` remembers for the callback, bound to one provider, client id
/// and redirect URI (SSO-02, SSO-03).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowRecord {
    /// Provider code (`google`, `acme`, ...).
    pub provider: String,
    /// Our client id at the provider when the flow started.
    pub client_id: String,
    /// The redirect URI sent to the provider (and again with the code).
    pub redirect_uri: String,
    /// OpenID `nonce` the ID token must echo.
    pub nonce: String,
    /// Our PKCE verifier towards the provider.
    pub pkce_verifier: String,
    /// The client's S256 challenge, when it uses PKCE towards us.
    pub code_challenge: Option<String>,
    /// Org scope for the tokens.
    pub organization_id: Option<Uuid>,
    /// Invitation to accept.
    pub invite_code: Option<String>,
    /// App the flow signs into.
    pub app_code: Option<String>,
    /// Unix seconds when the flow started.
    pub created_at: i64,
}

/// What an `auth_code` stands for until `POST /auth/sso/exchange`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthCodeRecord {
    /// The signed-in user.
    pub user_id: Uuid,
    /// Provider code (re-checked: a provider disabled meanwhile is refused, SSO-12).
    pub provider: String,
    /// The client's S256 challenge.
    pub code_challenge: String,
    /// Org scope.
    pub organization_id: Option<Uuid>,
    /// App code.
    pub app_code: Option<String>,
    /// Unix seconds after which the code is refused even if the store still holds it.
    pub expires_at: i64,
}

/// A fresh URL-safe token of `n` random bytes (state, nonce, auth code).
pub fn random_token(n: usize) -> Result<String, ApiError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(n)?))
}

fn state_key(state: &str) -> String {
    format!("sso:state:{state}")
}

/// Cache key of an auth code (public for tests that craft an expired one).
#[must_use]
pub fn auth_code_key(code: &str) -> String {
    format!("sso:authcode:{code}")
}

fn cache_error(e: auth_cache::CacheError) -> ApiError {
    internal(e)
}

/// Stores a flow record under `state` for [`STATE_TTL`].
pub async fn save_flow(cache: &Cache, state: &str, record: &FlowRecord) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(record).map_err(internal)?;
    cache
        .set_ex(&state_key(state), &bytes, STATE_TTL, Fallback::Memory)
        .await
        .map_err(cache_error)
}

/// 400 `SSO_TOKEN_INVALID` "invalid OAuth state".
#[must_use]
pub fn invalid_state() -> ApiError {
    ApiError::new(ErrorCode::SsoTokenInvalid, "invalid OAuth state")
}

/// Takes (GETDEL) the flow record of `state`: unknown, reused or older than 10 min is 400
/// `SSO_TOKEN_INVALID` (SSO-01, SSO-08).
pub async fn take_flow(cache: &Cache, state: &str, now: i64) -> Result<FlowRecord, ApiError> {
    if state.is_empty() || state.len() > 128 {
        return Err(invalid_state());
    }
    let raw = cache
        .get_del(&state_key(state), Fallback::Memory)
        .await
        .map_err(cache_error)?
        .ok_or_else(invalid_state)?;
    let record: FlowRecord = serde_json::from_slice(&raw).map_err(|_| invalid_state())?;
    let ttl = i64::try_from(STATE_TTL.as_secs()).unwrap_or(600);
    if now.saturating_sub(record.created_at) > ttl {
        return Err(invalid_state());
    }
    Ok(record)
}

/// Stores a new auth code for `record`; returns the code.
pub async fn save_auth_code(cache: &Cache, record: &AuthCodeRecord) -> Result<String, ApiError> {
    let code = random_token(32)?;
    let bytes = serde_json::to_vec(record).map_err(internal)?;
    cache
        .set_ex(
            &auth_code_key(&code),
            &bytes,
            AUTH_CODE_TTL,
            Fallback::Memory,
        )
        .await
        .map_err(cache_error)?;
    Ok(code)
}

/// Puts a taken auth code back for the rest of its life (a TOTP retry).
pub async fn restore_auth_code(
    cache: &Cache,
    code: &str,
    record: &AuthCodeRecord,
    now: i64,
) -> Result<(), ApiError> {
    let left = record.expires_at.saturating_sub(now);
    let Ok(left) = u64::try_from(left) else {
        return Ok(());
    };
    if left == 0 {
        return Ok(());
    }
    let bytes = serde_json::to_vec(record).map_err(internal)?;
    cache
        .set_ex(
            &auth_code_key(code),
            &bytes,
            Duration::from_secs(left),
            Fallback::Memory,
        )
        .await
        .map_err(cache_error)
}

/// 400 `TOKEN_INVALID` "invalid or expired auth_code".
#[must_use]
pub fn invalid_auth_code() -> ApiError {
    ApiError::new(ErrorCode::TokenInvalid, "invalid or expired auth_code")
        .with_status(poem::http::StatusCode::BAD_REQUEST)
}

/// Takes (GETDEL) an auth code: unknown, used or expired is 400 `TOKEN_INVALID`.
pub async fn take_auth_code(
    cache: &Cache,
    code: &str,
    now: i64,
) -> Result<AuthCodeRecord, ApiError> {
    if code.is_empty() || code.len() > 128 {
        return Err(invalid_auth_code());
    }
    let raw = cache
        .get_del(&auth_code_key(code), Fallback::Memory)
        .await
        .map_err(cache_error)?
        .ok_or_else(invalid_auth_code)?;
    let record: AuthCodeRecord = serde_json::from_slice(&raw).map_err(|_| invalid_auth_code())?;
    if now >= record.expires_at {
        return Err(invalid_auth_code());
    }
    Ok(record)
}

/// A PKCE challenge or verifier: 43-128 characters of `[A-Za-z0-9-._~]`.
#[must_use]
pub fn pkce_shape_ok(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `base64url(sha256(verifier)) == challenge`, ignoring `=` padding, in constant time.
#[must_use]
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let challenge = challenge.trim_end_matches('=');
    computed.len() == challenge.len() && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_an_independently_computed_vector() {
        let verifier = "dBjftJeZ4CVP-mJ0kI3ZPgn18bW4Jv4DZJm5PrE_W9Q";
        let challenge = "lvcju4d1aNy6Fu6eKJVtZsPe7ItwFVmqIVss9kOIylo";
        assert!(pkce_matches(verifier, challenge));
        assert!(pkce_matches(verifier, &format!("{challenge}=")));
        assert!(!pkce_matches("x".repeat(43).as_str(), challenge));
    }

    #[test]
    fn pkce_shapes() {
        assert!(pkce_shape_ok(&"a".repeat(43)));
        assert!(!pkce_shape_ok(&"a".repeat(42)));
        assert!(!pkce_shape_ok(&"a".repeat(129)));
        assert!(!pkce_shape_ok(&format!("{}+", "a".repeat(43))));
    }
}
