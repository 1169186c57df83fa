//! What the audit operations share: the platform-admin gate and query parsing.

use auth_edge::{ApiError, ErrorCode};
use chrono::{DateTime, Utc};
use jwt_verify::poem::BearerAuth;
use uuid::Uuid;

/// Only platform admins (`system_admin`, or the original's `super_admin`) read the audit log.
pub(super) fn require_platform_admin(auth: &BearerAuth) -> Result<(), ApiError> {
    let claims = &auth.0;
    if claims.has_role("system_admin") || claims.has_role("super_admin") {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InsufficientPermissions,
            "Insufficient permissions",
        ))
    }
}

/// An optional UUID query parameter; empty means absent.
pub(super) fn uuid_param(field: &str, raw: Option<String>) -> Result<Option<Uuid>, ApiError> {
    raw.filter(|v| !v.is_empty())
        .map(|v| {
            Uuid::parse_str(&v)
                .map_err(|_| ApiError::invalid_input(field, format!("{field} must be a UUID")))
        })
        .transpose()
}

/// An optional RFC 3339 query parameter; empty means absent.
pub(super) fn time_param(
    field: &str,
    raw: Option<String>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.filter(|v| !v.is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::invalid_input(field, format!("{field} must be an RFC 3339 time"))
                })
        })
        .transpose()
}

/// Lowercase hex of a hash.
pub(super) fn hex_hash(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
