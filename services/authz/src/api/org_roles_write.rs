//! Writes of custom organisation roles (contract §2.9): create, update, delete. Permission
//! checks in contract order: unknown code 400 `INVALID_INPUT`, not `org_assignable` 403
//! `FORBIDDEN`, not held by a restricted caller 403 `FORBIDDEN` (AZ-03, audited).

use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use poem_openapi::types::MaybeUndefined;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::common::{AuditCtx, internal};
use super::org_gate::{OrgCaller, bump_all, deny_escalation, load_org, not_grantable, publish_all};
use super::org_ops::field;
use super::org_roles::{CreateOrgRole, UpdateOrgRole, org_role, refuse_system};
use super::role_dto::{RoleResponse, with_permissions};
use crate::domain::orgs::{check_len, check_level, check_role_code, dedup};
use crate::repo::org_roles;
use crate::repo::roles::{PermRow, RoleRow};

/// Why a permission list was refused.
enum Refusal {
    /// 400 `INVALID_INPUT` (nothing to audit).
    Invalid(ApiError),
    /// 403 `FORBIDDEN`, audited as an escalation attempt.
    Escalation(&'static str, serde_json::Value),
}

fn name(raw: &str) -> Result<String, ApiError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(ApiError::invalid_input("name", "name is required"));
    }
    check_len("name", n, 200).map_err(field)?;
    Ok(n.to_owned())
}

fn description(raw: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(d) = raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    check_len("description", &d, 10_000).map_err(field)?;
    Ok(Some(d))
}

/// Resolves `codes`; `already` are codes the role holds (they need not be held by the
/// caller again).
async fn permissions(
    conn: &mut PgConnection,
    caller: &OrgCaller,
    codes: Vec<String>,
    already: &[String],
) -> Result<Result<Vec<PermRow>, Refusal>, ApiError> {
    let codes = dedup(codes);
    let found = org_roles::permissions_by_codes(conn, &codes)
        .await
        .map_err(internal)?;
    let unknown: Vec<&String> = codes
        .iter()
        .filter(|c| !found.iter().any(|p| &p.code == *c))
        .collect();
    if !unknown.is_empty() {
        return Ok(Err(Refusal::Invalid(
            ApiError::invalid_input("permission_codes", "unknown permission code")
                .with_details(json!({"field": "permission_codes", "codes": unknown})),
        )));
    }
    let not_assignable: Vec<&String> = found
        .iter()
        .filter(|p| !p.org_assignable)
        .map(|p| &p.code)
        .collect();
    if !not_assignable.is_empty() {
        return Ok(Err(Refusal::Escalation(
            "Permission is not assignable to organization roles",
            json!({"permission_codes": not_assignable}),
        )));
    }
    let added: Vec<String> = codes
        .iter()
        .filter(|c| !already.contains(c))
        .cloned()
        .collect();
    let refused = not_grantable(caller, &added);
    if !refused.is_empty() {
        return Ok(Err(Refusal::Escalation(
            "Cannot grant permissions you do not hold",
            json!({"permission_codes": refused}),
        )));
    }
    Ok(Ok(found))
}

async fn refuse(platform: &Platform, cx: &AuditCtx, caller: &OrgCaller, r: Refusal) -> ApiError {
    match r {
        Refusal::Invalid(e) => e,
        Refusal::Escalation(msg, details) => {
            deny_escalation(platform, cx, caller, msg, details).await
        }
    }
}

async fn finish(conn: &mut PgConnection, role: RoleRow) -> Result<RoleResponse, ApiError> {
    let mut out = with_permissions(conn, vec![role]).await.map_err(internal)?;
    out.pop().ok_or_else(|| internal("role vanished"))
}

/// `POST /orgs/{orgId}/roles`.
pub async fn create_role(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    b: CreateOrgRole,
) -> Result<RoleResponse, ApiError> {
    let code = b.code.trim().to_owned();
    check_role_code(&code).map_err(field)?;
    let name = name(&b.name)?;
    let description = description(b.description)?;
    let level = b.level.unwrap_or(100);
    check_level(level).map_err(field)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    load_org(&mut tx, caller, false).await?;
    if org_roles::system_code_exists(&mut tx, &code)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::invalid_input(
            "code",
            "code is reserved by a system role",
        ));
    }
    let perms =
        match permissions(&mut tx, caller, b.permission_codes.unwrap_or_default(), &[]).await? {
            Ok(p) => p,
            Err(r) => {
                drop(tx);
                return Err(refuse(platform, cx, caller, r).await);
            }
        };
    let role = org_roles::insert_custom(
        &mut tx,
        caller.org,
        &code,
        &name,
        description.as_deref(),
        level,
    )
    .await
    .map_err(|e| match auth_db::unique_violation(&e) {
        Some(_) => ApiError::new(
            ErrorCode::RoleAlreadyExists,
            "A role with this code already exists in the organization",
        ),
        None => internal(e),
    })?;
    let ids: Vec<Uuid> = perms.iter().map(|p| p.id).collect();
    org_roles::set_permissions(&mut tx, role.id, &ids)
        .await
        .map_err(internal)?;
    let codes: Vec<&str> = perms.iter().map(|p| p.code.as_str()).collect();
    let event = cx
        .event("organization.role_created", Some(caller.actor))?
        .organization(caller.org)
        .resource("role", Some(role.id))
        .details(json!({"code": role.code, "permissions": codes}));
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    let out = finish(&mut tx, role).await?;
    tx.commit().await.map_err(internal)?;
    Ok(out)
}

/// `PUT /orgs/{orgId}/roles/{roleId}`; bumps the holders' token versions when the
/// permissions change (§9.6).
pub async fn update_role(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    raw_role: &str,
    b: UpdateOrgRole,
) -> Result<RoleResponse, ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    load_org(&mut tx, caller, false).await?;
    let role = org_role(&mut tx, caller, raw_role, true).await?;
    refuse_system(&role)?;
    let new_name = match b.name {
        Some(n) => name(&n)?,
        None => role.name.clone(),
    };
    let new_description = match b.description {
        MaybeUndefined::Undefined => role.description.clone(),
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(d) => description(Some(d))?,
    };
    let level = b.level.or(role.level).unwrap_or(100);
    check_level(level).map_err(field)?;
    let mut bumps = Vec::new();
    let mut changed_permissions = None;
    if let Some(codes) = b.permission_codes {
        let current = org_roles::permission_codes(&mut tx, &[role.id])
            .await
            .map_err(internal)?;
        let perms = match permissions(&mut tx, caller, codes, &current).await? {
            Ok(p) => p,
            Err(r) => {
                drop(tx);
                return Err(refuse(platform, cx, caller, r).await);
            }
        };
        let ids: Vec<Uuid> = perms.iter().map(|p| p.id).collect();
        if org_roles::set_permissions(&mut tx, role.id, &ids)
            .await
            .map_err(internal)?
        {
            let holders = org_roles::holders(&mut tx, role.id)
                .await
                .map_err(internal)?;
            bumps = bump_all(&mut tx, &holders).await?;
            let after: Vec<String> = perms.into_iter().map(|p| p.code).collect();
            changed_permissions = Some(json!({"before": current, "after": after}));
        }
    }
    let saved = org_roles::update_custom(
        &mut tx,
        role.id,
        &new_name,
        new_description.as_deref(),
        level,
    )
    .await
    .map_err(internal)?;
    let event = cx
        .event("organization.role_updated", Some(caller.actor))?
        .organization(caller.org)
        .resource("role", Some(role.id))
        .details(json!({"code": saved.code, "permissions": changed_permissions}));
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    let out = finish(&mut tx, saved).await?;
    tx.commit().await.map_err(internal)?;
    publish_all(platform, bumps).await;
    Ok(out)
}

/// `DELETE /orgs/{orgId}/roles/{roleId}`: refused (409 `CONFLICT`) while a live member or
/// a pending invitation holds it.
pub async fn delete_role(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    raw_role: &str,
) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    load_org(&mut tx, caller, false).await?;
    let role = org_role(&mut tx, caller, raw_role, true).await?;
    refuse_system(&role)?;
    if org_roles::in_use(&mut tx, role.id)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::conflict(
            "Role is assigned to members or pending invitations",
        ));
    }
    org_roles::soft_delete(&mut tx, role.id)
        .await
        .map_err(internal)?;
    let event = cx
        .event("organization.role_deleted", Some(caller.actor))?
        .organization(caller.org)
        .resource("role", Some(role.id))
        .details(json!({"code": role.code}));
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(())
}
