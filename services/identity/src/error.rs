//! Mapping of internal failures to the contract envelope, in one place.

use auth_edge::{ApiError, ErrorCode};
use poem::http::StatusCode;

use crate::hasher::HashError;

/// 500 with the cause kept for the log.
pub fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// A hashing failure: saturation is 503 (retry later), anything else 500.
pub fn hashing(e: HashError) -> ApiError {
    match e {
        HashError::Saturated => ApiError::unavailable("password hashing saturated"),
        HashError::TooLong => ApiError::validation(
            "password must be at most 72 bytes (UTF-8); longer passwords would be truncated by bcrypt",
        ),
        other => internal(other),
    }
}

/// The constraint a unique violation names, if `e` is one.
pub fn unique_violation(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_owned())
        }
        _ => None,
    }
}

/// 401 `INVALID_CREDENTIALS` (unknown email and wrong password alike, PW-04).
pub fn invalid_credentials() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "Invalid email or password")
}

/// 403 `USER_SUSPENDED` with `message`.
pub fn suspended(message: &str) -> ApiError {
    ApiError::new(ErrorCode::UserSuspended, message)
}

/// 404 `USER_NOT_FOUND`.
pub fn user_not_found() -> ApiError {
    ApiError::new(ErrorCode::UserNotFound, "User not found")
}

/// 403 `VALIDATION_ERROR` "app is not active".
pub fn app_inactive() -> ApiError {
    ApiError::validation("app is not active").with_status(StatusCode::FORBIDDEN)
}

/// 401 `TOKEN_INVALID` with `message`.
pub fn token_invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::TokenInvalid, message)
}

/// The claims-assembly error as the contract names it.
pub fn claims(e: auth_tokens::ClaimsError) -> ApiError {
    use auth_tokens::ClaimsError as C;
    match e {
        C::OrganizationNotFound => {
            ApiError::new(ErrorCode::OrganizationNotFound, "Organization not found")
        }
        C::OrganizationSuspended => ApiError::new(
            ErrorCode::OrganizationSuspended,
            "Organization is suspended",
        ),
        C::NotOrganizationMember => ApiError::new(
            ErrorCode::NotOrganizationMember,
            "User is not a member of this organization",
        ),
        other => internal(other),
    }
}
