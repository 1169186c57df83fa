//! `/orgs/{orgId}/roles*` and `/orgs/{orgId}/permissions/assignable` (contract §2.9):
//! the organisation's roles, its custom roles (only `org_assignable` permissions, and only
//! ones the caller holds, AZ-03), behind the org-permission gate (§9.7).

use auth_edge::{ApiError, ErrorCode, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::common::{AuditCtx, internal, parse_id};
use super::org_gate::{OrgCaller, load_org, org_gate};
use super::org_roles_write::{create_role, delete_role, update_role};
use super::role_dto::{PermissionResponse, RoleList, RoleResponse, with_permissions};
use crate::repo::org_roles;
use crate::repo::roles::RoleRow;

/// Body of `POST /orgs/{orgId}/roles`.
#[derive(Debug, Object)]
pub struct CreateOrgRole {
    /// Code: 1–100 of `[A-Za-z0-9._-]`, not a system role's code, unique in the organisation.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Informational level, 0–10000 (default 100; lower = more privileged).
    pub level: Option<i32>,
    /// Permission codes (`org_assignable` ones only).
    pub permission_codes: Option<Vec<String>>,
}

/// Body of `PUT /orgs/{orgId}/roles/{roleId}` (absent fields are kept; `permission_codes`
/// replaces the set).
#[derive(Debug, Object)]
pub struct UpdateOrgRole {
    /// Display name.
    pub name: Option<String>,
    /// Free text (`null` or `""` clears).
    pub description: MaybeUndefined<String>,
    /// Informational level, 0–10000.
    pub level: Option<i32>,
    /// Permission codes (`org_assignable` ones only).
    pub permission_codes: Option<Vec<String>>,
}

/// `{permissions: [PermissionResponse]}`.
#[derive(Debug, Object)]
pub struct PermissionList {
    /// The permissions.
    pub permissions: Vec<PermissionResponse>,
}

/// Replies of `GET /orgs/{orgId}/roles`.
#[derive(ApiResponse)]
pub enum OrgRoleListReply {
    /// System organisation roles and this organisation's custom roles.
    #[oai(status = 200)]
    Ok(Json<RoleList>),
    /// Malformed id (system admins).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies carrying one role.
#[derive(ApiResponse)]
pub enum OrgRoleReply {
    /// The role.
    #[oai(status = 200)]
    Ok(Json<RoleResponse>),
    /// Created.
    #[oai(status = 201)]
    Created(Json<RoleResponse>),
    /// Missing or bad field, a system role's code, an unknown permission (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused, a permission that is not org-assignable or not held (`FORBIDDEN`), or a
    /// system role (`CANNOT_MODIFY_SYSTEM_ROLE`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such role in this organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// `ROLE_ALREADY_EXISTS` in this organisation.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /orgs/{orgId}/roles/{roleId}`.
#[derive(ApiResponse)]
pub enum OrgRoleDeletedReply {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
    /// Malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused or a system role (`CANNOT_MODIFY_SYSTEM_ROLE`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such role in this organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// Still assigned to a member or a pending invitation (`CONFLICT`).
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `GET /orgs/{orgId}/permissions/assignable`.
#[derive(ApiResponse)]
pub enum AssignableReply {
    /// The `org_assignable` permissions.
    #[oai(status = 200)]
    Ok(Json<PermissionList>),
    /// Malformed id (system admins).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// 404 `NOT_FOUND` "role not found".
pub fn role_not_found() -> ApiError {
    ApiError::not_found("role not found")
}

/// A role of the path as seen from the organisation: a system organisation role or this
/// organisation's custom role; a malformed id is 400, any other role 404.
pub async fn org_role(
    conn: &mut sqlx::PgConnection,
    caller: &OrgCaller,
    raw: &str,
    lock: bool,
) -> Result<RoleRow, ApiError> {
    let id = parse_id("role_id", raw)?;
    let role = org_roles::get(conn, id, lock)
        .await
        .map_err(internal)?
        .ok_or_else(role_not_found)?;
    match role.organization_id {
        Some(o) if o == caller.org => Ok(role),
        Some(_) => Err(role_not_found()),
        None if role.is_org_role.unwrap_or(false) => Ok(role),
        None => Err(role_not_found()),
    }
}

/// 403 `CANNOT_MODIFY_SYSTEM_ROLE` for system roles.
pub fn refuse_system(role: &RoleRow) -> Result<(), ApiError> {
    if role.organization_id.is_none() {
        return Err(ApiError::new(
            ErrorCode::CannotModifySystemRole,
            "System roles cannot be modified",
        ));
    }
    Ok(())
}

/// The organisation's roles.
#[derive(Debug, Default, Clone, Copy)]
pub struct OrgRolesApi;

#[OpenApi(tag = "ApiTags::Orgs")]
impl OrgRolesApi {
    /// System organisation roles and this organisation's custom roles (`org:roles:read`).
    #[oai(
        path = "/orgs/:org_id/roles",
        method = "get",
        operation_id = "listOrgRoles"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
    ) -> poem::Result<OrgRoleListReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:roles:read")?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        load_org(&mut conn, &caller, false).await?;
        let rows = org_roles::usable(&mut conn, caller.org)
            .await
            .map_err(internal)?;
        let roles = with_permissions(&mut conn, rows).await.map_err(internal)?;
        Ok(OrgRoleListReply::Ok(Json(RoleList { roles })))
    }

    /// One role usable in the organisation (`org:roles:read`).
    #[oai(
        path = "/orgs/:org_id/roles/:role_id",
        method = "get",
        operation_id = "getOrgRole"
    )]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// Role id.
        role_id: Path<String>,
    ) -> poem::Result<OrgRoleReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:roles:read")?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        load_org(&mut conn, &caller, false).await?;
        let role = org_role(&mut conn, &caller, &role_id.0, false).await?;
        let mut out = with_permissions(&mut conn, vec![role])
            .await
            .map_err(internal)?;
        Ok(OrgRoleReply::Ok(Json(
            out.pop().ok_or_else(role_not_found)?,
        )))
    }

    /// Creates a custom role (`org:roles:create`).
    #[oai(
        path = "/orgs/:org_id/roles",
        method = "post",
        operation_id = "createOrgRole"
    )]
    async fn create(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        body: Json<CreateOrgRole>,
    ) -> poem::Result<OrgRoleReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:roles:create")?;
        let role = create_role(&platform, &cx, &caller, body.0).await?;
        Ok(OrgRoleReply::Created(Json(role)))
    }

    /// Changes a custom role (`org:roles:update`); holders' token versions are bumped
    /// when its permissions change.
    #[oai(
        path = "/orgs/:org_id/roles/:role_id",
        method = "put",
        operation_id = "updateOrgRole"
    )]
    async fn update(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// Role id.
        role_id: Path<String>,
        body: Json<UpdateOrgRole>,
    ) -> poem::Result<OrgRoleReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:roles:update")?;
        let role = update_role(&platform, &cx, &caller, &role_id.0, body.0).await?;
        Ok(OrgRoleReply::Ok(Json(role)))
    }

    /// Deletes a custom role that nobody holds (`org:roles:delete`).
    #[oai(
        path = "/orgs/:org_id/roles/:role_id",
        method = "delete",
        operation_id = "deleteOrgRole"
    )]
    async fn delete(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// Role id.
        role_id: Path<String>,
    ) -> poem::Result<OrgRoleDeletedReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:roles:delete")?;
        delete_role(&platform, &cx, &caller, &role_id.0).await?;
        Ok(OrgRoleDeletedReply::NoContent)
    }

    /// The permissions custom roles may hold (`org:roles:read`).
    #[oai(
        path = "/orgs/:org_id/permissions/assignable",
        method = "get",
        operation_id = "listAssignablePermissions"
    )]
    async fn assignable(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
    ) -> poem::Result<AssignableReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:roles:read")?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        load_org(&mut conn, &caller, false).await?;
        let rows = org_roles::assignable(&mut conn).await.map_err(internal)?;
        Ok(AssignableReply::Ok(Json(PermissionList {
            permissions: rows.into_iter().map(Into::into).collect(),
        })))
    }
}
