//! Contract DTOs shared by several services.
//!
//! The all-in-one server registers every service's API in one OpenAPI registry, where two
//! Rust types with the same schema name are an error; a shape that more than one service
//! answers with therefore lives here, once.
//!
//! # Layout
//! - `lib.rs`: [`SuccessBody`] (`{"success": true}`) and [`TokenResponse`] (contract §2.1).

use auth_tokens::TokenPair;
use poem_openapi::Object;

/// `{"success": true}`, the reply of many mutations.
#[derive(Debug, Clone, Object)]
pub struct SuccessBody {
    /// Always true.
    pub success: bool,
}

impl SuccessBody {
    /// `{"success": true}`.
    #[must_use]
    pub fn ok() -> Self {
        Self { success: true }
    }
}

/// The contract's `TokenResponse`: an access/refresh pair.
#[derive(Debug, Clone, Object)]
pub struct TokenResponse {
    /// Access token (JWT).
    pub access_token: String,
    /// Refresh token (JWT).
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
    /// Access-token expiry (RFC 3339, seconds, UTC).
    pub expires_at: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
            expires_at: t.expires_at,
        }
    }
}
