//! What every authz handler shares: the role gates, id parsing, timestamps, the audit
//! context extractor and the mapping of database errors.

use auth_edge::{ApiError, ClientIp, ErrorCode};
use chrono::{DateTime, SecondsFormat, Utc};
use jwt_verify::AccessClaims;
use poem::{FromRequest, Request, RequestBody};
use uuid::Uuid;

/// The platform owner's role.
pub const SYSTEM_ADMIN: &str = "system_admin";
/// The cross-organisation admin role (§9.8).
pub const SUPER_ADMIN: &str = "super_admin";

/// The organisation administrator role (given to an organisation's creator).
pub const ORG_ADMIN: &str = "org_admin";

/// `system_admin` only: 403 `INSUFFICIENT_PERMISSIONS` otherwise.
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
    if claims.has_role(SYSTEM_ADMIN) || claims.has_role(SUPER_ADMIN) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InsufficientPermissions,
        "Admin access required",
    ))
}

/// The caller's user id (`uid`, falling back to `sub`).
pub fn caller_id(claims: &AccessClaims) -> Result<Uuid, ApiError> {
    let raw = if claims.uid.is_empty() {
        &claims.sub
    } else {
        &claims.uid
    };
    Uuid::parse_str(raw).map_err(|_| ApiError::unauthorized("Invalid token subject"))
}

/// A path or body id: 400 `INVALID_INPUT` naming `field` when it is not a UUID.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::invalid_input(field, format!("{field} must be a valid UUID")))
}

/// The contract's timestamp format: RFC 3339, seconds, UTC as `Z`.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// [`ts`] for optional timestamps.
pub fn ts_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

/// A handler's 500 for an unexpected database error (cause logged, never shown).
pub fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// The client of a request, for audit rows: IP (trusted-proxy rule) and user agent.
#[derive(Debug, Clone)]
pub struct AuditCtx {
    /// Client IP.
    pub ip: String,
    /// `User-Agent` (truncated to 500 characters).
    pub user_agent: Option<String>,
}

impl<'a> FromRequest<'a> for AuditCtx {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let ip = ClientIp::from_request(req, body).await?;
        let user_agent = req
            .headers()
            .get(poem::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(500).collect());
        Ok(Self {
            ip: ip.0.to_string(),
            user_agent,
        })
    }
}

impl AuditCtx {
    /// An audit event for `action` carrying this client and `actor`.
    pub fn event(
        &self,
        action: &str,
        actor: Option<Uuid>,
    ) -> Result<auth_bus::AuditEvent, ApiError> {
        let action = auth_bus::AuditAction::new(action).map_err(internal)?;
        let mut e = auth_bus::AuditEvent::new(action)
            .client(Some(self.ip.clone()), self.user_agent.clone());
        if let Some(a) = actor {
            e = e.actor(a);
        }
        Ok(e)
    }
}
