//! Failures of the session service's use cases and their contract envelopes (§4), in one
//! place.

use auth_edge::{ApiError, ErrorCode};
use auth_tokens::ClaimsError;
use poem::http::StatusCode;

/// Why a refresh (or another session operation) was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// 401 `TOKEN_INVALID`: bad, foreign, unknown, expired-row or lost-race refresh token.
    #[error("invalid refresh token")]
    TokenInvalid,
    /// 401 `TOKEN_EXPIRED`: the refresh JWT itself has expired.
    #[error("refresh token expired")]
    TokenExpired,
    /// 401 `TOKEN_REVOKED`: reuse, idle timeout, revoked family, outdated token version.
    #[error("refresh token revoked")]
    TokenRevoked,
    /// 404 `USER_NOT_FOUND`: the user is gone or soft-deleted.
    #[error("user not found")]
    UserNotFound,
    /// 403 `USER_SUSPENDED`.
    #[error("user suspended")]
    UserSuspended,
    /// 404 `NOT_FOUND` "app not found": the token's app was deleted.
    #[error("app not found")]
    AppNotFound,
    /// 403 `VALIDATION_ERROR` "app is not active".
    #[error("app is not active")]
    AppInactive,
    /// 403 `FORBIDDEN`: the user's grant for the app was revoked.
    #[error("user is not authorized for this app")]
    AppNotGranted,
    /// An org gate of claims assembly (§5.1 step 8).
    #[error(transparent)]
    Claims(ClaimsError),
    /// Anything else: 500 with the cause logged.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for SessionError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<ClaimsError> for SessionError {
    fn from(e: ClaimsError) -> Self {
        match e {
            ClaimsError::Database(db) => db.into(),
            other => Self::Claims(other),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::TokenInvalid => {
                ApiError::new(ErrorCode::TokenInvalid, "Invalid refresh token")
            }
            SessionError::TokenExpired => {
                ApiError::new(ErrorCode::TokenExpired, "Refresh token has expired")
            }
            SessionError::TokenRevoked => {
                ApiError::new(ErrorCode::TokenRevoked, "Refresh token has been revoked")
            }
            SessionError::UserNotFound => ApiError::new(ErrorCode::UserNotFound, "User not found"),
            SessionError::UserSuspended => {
                ApiError::new(ErrorCode::UserSuspended, "User account is suspended")
            }
            SessionError::AppNotFound => ApiError::not_found("app not found"),
            SessionError::AppInactive => {
                ApiError::validation("app is not active").with_status(StatusCode::FORBIDDEN)
            }
            SessionError::AppNotGranted => {
                ApiError::forbidden("user is not authorized for this app")
            }
            SessionError::Claims(c) => claims(&c),
            SessionError::Unexpected(cause) => ApiError::internal(cause),
        }
    }
}

impl From<SessionError> for poem::Error {
    fn from(e: SessionError) -> Self {
        ApiError::from(e).into()
    }
}

/// The org gate that refused, as the contract names it (same codes as login).
fn claims(e: &ClaimsError) -> ApiError {
    let code = match e {
        ClaimsError::OrganizationNotFound => ErrorCode::OrganizationNotFound,
        ClaimsError::OrganizationSuspended => ErrorCode::OrganizationSuspended,
        ClaimsError::NotOrganizationMember => ErrorCode::NotOrganizationMember,
        other => return ApiError::internal(other),
    };
    ApiError::new(code, e.to_string())
}

/// 500 with the cause kept for the log.
pub fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// 400 `INVALID_INPUT` naming `field`.
pub fn invalid_field(field: &str, message: &str) -> ApiError {
    ApiError::invalid_input(field, message)
}
