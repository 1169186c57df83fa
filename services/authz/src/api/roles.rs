//! `/admin/roles` and `/admin/users/{userId}/roles` (contract §2.10, §9.6, §9.8).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::ApiTags;
use super::common::{
    AuditCtx, SYSTEM_ADMIN, caller_id, internal, parse_id, require_platform_admin,
};
use super::grants::{publish, user_not_found};
use super::role_dto::{RoleList, RoleResponse, with_permissions};
use crate::repo::{roles, users};

/// Body of `PUT /admin/users/{userId}/roles`: the full replacement set.
#[derive(Debug, Object)]
pub struct SetUserRoles {
    /// Role codes (system, non-org roles).
    pub role_codes: Option<Vec<String>>,
    /// Role ids (used when `role_codes` is absent).
    pub role_ids: Option<Vec<String>>,
    /// Also end every session and refresh token of the user (logout-all).
    #[oai(default)]
    pub revoke_sessions: bool,
}

/// Reply of `PUT /admin/users/{userId}/roles`.
#[derive(Debug, Object)]
pub struct UserRolesSet {
    /// The user's base roles now.
    pub roles: Vec<RoleResponse>,
    /// Whether sessions were ended.
    pub sessions_revoked: bool,
}

/// Replies of the role listings.
#[derive(ApiResponse)]
pub enum RolesResponse {
    /// The roles.
    #[oai(status = 200)]
    Ok(Json<RoleList>),
    /// Malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `PUT /admin/users/{userId}/roles`.
#[derive(ApiResponse)]
pub enum SetRolesResponse {
    /// Replaced; the token version was bumped.
    #[oai(status = 200)]
    Ok(Json<UserRolesSet>),
    /// Unknown or non-base role, malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not allowed (only a system admin grants or removes `system_admin`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Platform roles.
#[derive(Debug, Default, Clone, Copy)]
pub struct RolesApi;

#[OpenApi(tag = "ApiTags::Roles")]
impl RolesApi {
    /// The system roles with their permissions.
    #[oai(path = "/admin/roles", method = "get", operation_id = "listRoles")]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<RolesResponse> {
        require_platform_admin(&auth.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let rows = roles::system_roles(&mut conn).await.map_err(internal)?;
        let roles = with_permissions(&mut conn, rows).await.map_err(internal)?;
        Ok(RolesResponse::Ok(Json(RoleList { roles })))
    }

    /// A user's base roles.
    #[oai(
        path = "/admin/users/:user_id/roles",
        method = "get",
        operation_id = "listUserRoles"
    )]
    async fn user_roles(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// User id.
        user_id: Path<String>,
    ) -> poem::Result<RolesResponse> {
        require_platform_admin(&auth.0)?;
        let user = parse_id("user_id", &user_id.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        if !users::exists(&mut conn, user).await.map_err(internal)? {
            return Err(user_not_found().into());
        }
        let rows = roles::base_roles(&mut conn, user).await.map_err(internal)?;
        let roles = with_permissions(&mut conn, rows).await.map_err(internal)?;
        Ok(RolesResponse::Ok(Json(RoleList { roles })))
    }

    /// Replaces a user's base roles; always bumps the token version (§9.6).
    #[oai(
        path = "/admin/users/:user_id/roles",
        method = "put",
        operation_id = "setUserRoles"
    )]
    async fn set_user_roles(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// User id.
        user_id: Path<String>,
        body: Json<SetUserRoles>,
    ) -> poem::Result<SetRolesResponse> {
        require_platform_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let user = parse_id("user_id", &user_id.0)?;
        let b = body.0;
        let (codes, ids) = match (b.role_codes, b.role_ids) {
            (Some(codes), _) => (Some(dedup(codes)), None),
            (None, Some(ids)) => {
                let ids = ids
                    .iter()
                    .map(|i| parse_id("role_ids", i))
                    .collect::<Result<Vec<Uuid>, _>>()?;
                (None, Some(dedup(ids)))
            }
            (None, None) => {
                return Err(ApiError::invalid_input(
                    "role_codes",
                    "role_codes or role_ids is required",
                )
                .into());
            }
        };
        let mut tx = platform.db.begin().await.map_err(internal)?;
        if !users::exists(&mut tx, user).await.map_err(internal)? {
            return Err(user_not_found().into());
        }
        let found = roles::system_roles_matching(&mut tx, codes.as_deref(), ids.as_deref())
            .await
            .map_err(internal)?;
        let wanted = codes
            .as_ref()
            .map_or_else(|| ids.as_ref().map_or(0, Vec::len), Vec::len);
        if found.len() != wanted {
            let field = if codes.is_some() {
                "role_codes"
            } else {
                "role_ids"
            };
            return Err(ApiError::invalid_input(field, "unknown role").into());
        }
        if let Some(org_role) = found.iter().find(|r| r.is_org_role.unwrap_or(false)) {
            return Err(ApiError::invalid_input(
                "role_codes",
                format!("{} is an organization role, not a base role", org_role.code),
            )
            .into());
        }
        let before = roles::base_roles(&mut tx, user).await.map_err(internal)?;
        let had_admin = before.iter().any(|r| r.code == SYSTEM_ADMIN);
        let gets_admin = found.iter().any(|r| r.code == SYSTEM_ADMIN);
        if had_admin != gets_admin && !auth.0.has_role(SYSTEM_ADMIN) {
            // AZ-03: only a system admin grants or removes system_admin
            return Err(ApiError::forbidden(
                "Only a system admin can grant or remove system_admin",
            )
            .into());
        }
        let role_ids: Vec<Uuid> = found.iter().map(|r| r.id).collect();
        let by = users::exists(&mut tx, actor)
            .await
            .map_err(internal)?
            .then_some(actor);
        roles::replace_base_roles(&mut tx, user, &role_ids, by)
            .await
            .map_err(internal)?;
        let bump = auth_bus::bump_token_version_in_tx(&mut tx, user)
            .await
            .map_err(internal)?;
        if b.revoke_sessions {
            // the same effect as the user's logout-all, audited as one (§5.3)
            let (refresh_tokens, sessions) =
                roles::revoke_user_sessions(&mut tx, user, "admin_roles_changed")
                    .await
                    .map_err(internal)?;
            let logout = cx
                .event("logout.all", Some(actor))?
                .resource("user", Some(user))
                .details(json!({"reason": "admin_roles_changed",
                    "sessions_terminated": sessions, "refresh_tokens_revoked": refresh_tokens,
                    "token_version": bump.version}))
                .subject_user(user);
            auth_bus::enqueue_audit(&mut tx, &logout)
                .await
                .map_err(internal)?;
        }
        let codes_of =
            |rs: &[roles::RoleRow]| rs.iter().map(|r| r.code.clone()).collect::<Vec<_>>();
        let event = cx
            .event("user.roles_changed", Some(actor))?
            .resource("user", Some(user))
            .details(
                json!({"before": codes_of(&before), "after": codes_of(&found),
                            "sessions_revoked": b.revoke_sessions}),
            )
            .subject_user(user);
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        let roles = with_permissions(&mut tx, found).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        publish(&platform, bump).await;
        Ok(SetRolesResponse::Ok(Json(UserRolesSet {
            roles,
            sessions_revoked: b.revoke_sessions,
        })))
    }
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
