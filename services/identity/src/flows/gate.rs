//! Route gates of the admin routes (§2.10, §9.8) and path-id parsing.

use auth_edge::{ApiError, ErrorCode};
use jwt_verify::AccessClaims;
use uuid::Uuid;

/// The platform owner's role.
pub const SYSTEM_ADMIN: &str = "system_admin";
/// The cross-organisation admin role.
pub const SUPER_ADMIN: &str = "super_admin";
/// The organisation admin role.
pub const ORG_ADMIN: &str = "org_admin";

/// `system_admin` only (bulk import, hard delete, pools): 403 `INSUFFICIENT_PERMISSIONS`.
pub fn require_system_admin(claims: &AccessClaims) -> Result<(), ApiError> {
    if claims.has_role(SYSTEM_ADMIN) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InsufficientPermissions,
        "System admin access required",
    ))
}

/// `system_admin` or `super_admin` (§9.8): 403 `INSUFFICIENT_PERMISSIONS` otherwise.
pub fn require_platform_admin(claims: &AccessClaims) -> Result<(), ApiError> {
    if is_platform_admin(claims) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InsufficientPermissions,
        "Admin access required",
    ))
}

/// Holds `system_admin` or `super_admin`.
#[must_use]
pub fn is_platform_admin(claims: &AccessClaims) -> bool {
    claims.has_role(SYSTEM_ADMIN) || claims.has_role(SUPER_ADMIN)
}

/// A path or body id: 400 `INVALID_INPUT` naming `field` when it is not a UUID.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::invalid_input(field, format!("{field} must be a valid UUID")))
}
