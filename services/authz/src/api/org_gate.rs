//! The org-permission gate of `/orgs/{orgId}*` (contract §2.9, §9.7) and what handlers of
//! both organisation surfaces share: loading the organisation, the "grant only what you
//! hold" rule, token-version publishing and refused-escalation audit rows.

use auth_bus::TokenVersionBump;
use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use jwt_verify::AccessClaims;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::common::{AuditCtx, SYSTEM_ADMIN, caller_id, internal};
use super::grants::publish;
use crate::repo::orgs::{self, OrgRow};

/// A caller that passed an organisation gate.
#[derive(Debug, Clone)]
pub struct OrgCaller {
    /// The organisation of the path.
    pub org: Uuid,
    /// The caller's user id.
    pub actor: Uuid,
    /// The permissions the caller may hand out through roles; `None` = unrestricted
    /// (platform admins and `system_admin`).
    pub grantable: Option<Vec<String>>,
}

impl OrgCaller {
    /// Whether the caller may hand out everything (`system_admin` or the admin surface).
    pub fn unrestricted(&self) -> bool {
        self.grantable.is_none()
    }
}

/// §9.7: `system_admin` passes; anyone else needs a token scoped to `raw_org` (403
/// `FORBIDDEN`) holding `permission` (403 `INSUFFICIENT_PERMISSIONS`). The gate runs before
/// the path is parsed, so a caller without access never learns more than 403.
pub fn org_gate(
    claims: &AccessClaims,
    raw_org: &str,
    permission: &str,
) -> Result<OrgCaller, ApiError> {
    let actor = caller_id(claims)?;
    let path_org = Uuid::parse_str(raw_org.trim()).ok();
    if claims.has_role(SYSTEM_ADMIN) {
        let org = path_org
            .ok_or_else(|| ApiError::invalid_input("org_id", "org_id must be a valid UUID"))?;
        return Ok(OrgCaller {
            org,
            actor,
            grantable: None,
        });
    }
    if claims.org_id.trim().is_empty() {
        return Err(ApiError::forbidden("Organization context required"));
    }
    let scoped = Uuid::parse_str(claims.org_id.trim()).ok();
    let org = match (path_org, scoped) {
        (Some(p), Some(s)) if p == s => p,
        _ => {
            return Err(ApiError::forbidden(
                "Token is not scoped to this organization",
            ));
        }
    };
    if !claims.has_permission(permission) {
        return Err(ApiError::new(
            ErrorCode::InsufficientPermissions,
            format!("Missing permission {permission}"),
        ));
    }
    Ok(OrgCaller {
        org,
        actor,
        grantable: Some(claims.permissions.clone()),
    })
}

/// 404 `ORGANIZATION_NOT_FOUND`.
pub fn org_not_found() -> ApiError {
    ApiError::new(ErrorCode::OrganizationNotFound, "Organization not found")
}

/// The live organisation (404 `ORGANIZATION_NOT_FOUND`); a suspended one refuses a
/// restricted caller (403 `ORGANIZATION_SUSPENDED`).
pub async fn load_org(
    conn: &mut PgConnection,
    caller: &OrgCaller,
    lock: bool,
) -> Result<OrgRow, ApiError> {
    let org = orgs::get(conn, caller.org, lock)
        .await
        .map_err(internal)?
        .ok_or_else(org_not_found)?;
    if !caller.unrestricted() && org.status == "suspended" {
        return Err(ApiError::new(
            ErrorCode::OrganizationSuspended,
            "Organization is suspended",
        ));
    }
    Ok(org)
}

/// The codes in `wanted` the caller may not hand out (empty when unrestricted).
pub fn not_grantable(caller: &OrgCaller, wanted: &[String]) -> Vec<String> {
    match &caller.grantable {
        None => Vec::new(),
        Some(held) => wanted
            .iter()
            .filter(|w| !held.contains(w))
            .cloned()
            .collect(),
    }
}

/// Refuses an escalation attempt (AZ-03): 403 `FORBIDDEN`, after writing an
/// `authz.escalation_denied` audit row in its own transaction.
pub async fn deny_escalation(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    message: &str,
    details: serde_json::Value,
) -> ApiError {
    let recorded = async {
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let event = cx
            .event("authz.escalation_denied", Some(caller.actor))?
            .organization(caller.org)
            .details(json!({"reason": message, "refused": details.clone()}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    };
    if let Err(e) = recorded.await {
        let cause = e.cause().unwrap_or_else(|| e.public_message());
        tracing::warn!(error = cause, "escalation audit row not written");
    }
    ApiError::forbidden(message).with_details(details)
}

/// Publishes committed token-version bumps (in the background when there are many).
pub async fn publish_all(platform: &Platform, bumps: Vec<TokenVersionBump>) {
    if bumps.len() <= 4 {
        for b in bumps {
            publish(platform, b).await;
        }
        return;
    }
    let platform = platform.clone();
    tokio::spawn(async move {
        for b in bumps {
            publish(&platform, b).await;
        }
    });
}

/// Bumps the token version of each of `users` inside the transaction (§9.6).
pub async fn bump_all(
    conn: &mut PgConnection,
    users: &[Uuid],
) -> Result<Vec<TokenVersionBump>, ApiError> {
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        out.push(
            auth_bus::bump_token_version_in_tx(conn, *u)
                .await
                .map_err(internal)?,
        );
    }
    Ok(out)
}
