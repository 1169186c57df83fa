//! `POST /admin/users/{userId}/impersonate` (§2.10, §5.10): a support admin acts as a user.
//! The pair carries `imp_uid`/`imp_email`; chained impersonation, self-impersonation and
//! privilege escalation are refused, and every attempt is audited.

use auth_bus::AuditAction;
use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use auth_tokens::{AppScope, Impersonator};
use chrono::Utc;
use jwt_verify::AccessClaims;
use uuid::Uuid;

use super::admin::reason;
use super::common::{Client, IssueOptions, audit, audit_alone, caller_id, issue};
use super::gate::{ORG_ADMIN, SUPER_ADMIN, SYSTEM_ADMIN, is_platform_admin};
use super::login::LoginSuccess;
use crate::error::{claims, internal, suspended, user_not_found};
use crate::repo::{admin_users, orgs, users};

/// Runs the checks, then issues the pair. Refusals are audited as
/// `user.impersonation_failed` (in a transaction of their own).
pub async fn impersonate(
    platform: &Platform,
    caller: &AccessClaims,
    target: Uuid,
    raw_reason: &str,
    client: &Client,
) -> Result<LoginSuccess, ApiError> {
    let admin = caller_id(caller)?;
    match run(platform, caller, admin, target, raw_reason, client).await {
        Ok(s) => Ok(s),
        Err(e) => {
            if e.status.is_client_error() {
                let event = client
                    .event(AuditAction::USER_IMPERSONATION_FAILED)
                    .actor(admin)
                    .resource("user", Some(target))
                    .details(serde_json::json!({ "reason": e.public_message() }))
                    .subject_user(target);
                audit_alone(platform, &event).await?;
            }
            Err(e)
        }
    }
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
}

async fn run(
    platform: &Platform,
    caller: &AccessClaims,
    admin: Uuid,
    target: Uuid,
    raw_reason: &str,
    client: &Client,
) -> Result<LoginSuccess, ApiError> {
    if caller.is_impersonation() {
        return Err(forbidden(
            "Impersonation tokens cannot start another impersonation",
        ));
    }
    let why = reason(raw_reason)?;
    if admin == target {
        return Err(ApiError::invalid_input(
            "user_id",
            "You cannot impersonate yourself",
        ));
    }
    let platform_admin = is_platform_admin(caller);
    let org_scope = if platform_admin {
        None
    } else if caller.has_role(ORG_ADMIN) && !caller.org_id.is_empty() {
        Some(Uuid::parse_str(&caller.org_id).map_err(|_| forbidden("Invalid organization scope"))?)
    } else {
        return Err(forbidden("Not allowed to impersonate users"));
    };

    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = users::find_by_id(&mut tx, target)
        .await
        .map_err(internal)?
        .filter(|u| !u.is_deleted())
        .ok_or_else(user_not_found)?;
    if let Some(org) = org_scope
        && !admin_users::is_member(&mut tx, org, user.id)
            .await
            .map_err(internal)?
    {
        return Err(forbidden("User is not a member of your organization"));
    }
    // nobody gains rights by impersonating: only a system_admin may act as one, and only
    // platform admins may act as a super_admin
    let target_roles = users::base_role_codes(&mut tx, user.id)
        .await
        .map_err(internal)?;
    let has = |r: &str| target_roles.iter().any(|c| c == r);
    if (has(SYSTEM_ADMIN) && !caller.has_role(SYSTEM_ADMIN))
        || (has(SUPER_ADMIN) && !platform_admin)
    {
        return Err(forbidden(
            "Not allowed to impersonate a more privileged user",
        ));
    }
    if user.status == "suspended" || user.locked_at(Utc::now()) {
        return Err(suspended("User is suspended"));
    }

    let app = caller_app(&mut tx, &caller.app_code).await?;
    let grants = auth_tokens::assemble(&mut tx, user.id, app.as_ref(), org_scope)
        .await
        .map_err(claims)?;
    let organization = match org_scope {
        Some(id) => orgs::find(&mut tx, id).await.map_err(internal)?,
        None => None,
    };
    let (roles, permissions) = (grants.roles.clone(), grants.permissions.clone());
    let options = IssueOptions {
        remember_me: false,
        device: client.device(),
        impersonator: Some(Impersonator {
            user_id: admin,
            email: caller.email.clone(),
        }),
    };
    let issued = issue(&mut tx, platform, &user, grants, app.clone(), options).await?;
    let mut event = client
        .event(AuditAction::USER_IMPERSONATION_STARTED)
        .actor(admin)
        .resource("session", Some(issued.session_id))
        .details(serde_json::json!({
            "reason": why,
            "app_code": app.as_ref().map(|a| a.code.clone()),
        }))
        .subject_user(user.id);
    if let Some(org) = org_scope {
        event = event.organization(org);
    }
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)?;
    Ok(LoginSuccess {
        user,
        organization,
        tokens: issued.tokens,
        roles,
        permissions,
    })
}

/// The app the caller's own token is scoped to, when it is still active (the impersonation
/// pair works in the same app).
async fn caller_app(
    conn: &mut sqlx::PgConnection,
    code: &str,
) -> Result<Option<AppScope>, ApiError> {
    if code.is_empty() {
        return Ok(None);
    }
    Ok(auth_tokens::load_app(conn, code)
        .await
        .map_err(internal)?
        .filter(AppScope::is_active))
}
