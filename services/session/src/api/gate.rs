//! Role gates and path parsing shared by the handlers.

use auth_edge::{ApiError, ErrorCode};
use jwt_verify::AccessClaims;
use uuid::Uuid;

/// The platform-admin route gate: `system_admin` or `super_admin` (contract §2), else 403
/// `INSUFFICIENT_PERMISSIONS`.
pub fn platform_admin(claims: &AccessClaims) -> Result<(), ApiError> {
    if claims.has_role("system_admin") || claims.has_role("super_admin") {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InsufficientPermissions,
            "Insufficient permissions",
        ))
    }
}

/// A UUID path or body value, else 400 `INVALID_INPUT` naming `field`.
pub fn uuid(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value.trim())
        .map_err(|_| ApiError::invalid_input(field, format!("invalid {field}")))
}

/// The caller's user id (`uid` claim).
pub fn caller(claims: &AccessClaims) -> Result<Uuid, ApiError> {
    Uuid::parse_str(&claims.uid).map_err(|_| ApiError::unauthorized("Invalid token subject"))
}
