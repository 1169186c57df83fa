//! `/admin/organizations/{orgId}/members*` (contract §2.10). Gate: platform admin (§9.8).
//! Member removal, status and role changes bump the member's token version (§9.6).

use auth_edge::ApiError;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use serde_json::json;
use uuid::Uuid;

use super::ApiTags;
use super::admin_orgs::admin_caller;
use super::common::AuditCtx;
use super::common::{internal, parse_id};
use super::org_dto::{AddMember, MemberRoles, MemberStatus, SuccessBody};
use super::org_gate::{bump_all, load_org, publish_all};
use super::org_ops::{add_member, list_members, member_not_found, set_member_status, with_roles};
use super::org_replies::{MemberPageReply, MemberReply, SuccessReply};
use crate::domain::orgs::dedup;
use crate::repo::{members, org_roles, users};

/// Member administration.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdminMembersApi;

#[OpenApi(tag = "ApiTags::Organizations")]
impl AdminMembersApi {
    /// An organisation's members, one page at a time.
    #[oai(
        path = "/admin/organizations/:org_id/members",
        method = "get",
        operation_id = "adminListMembers"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id.
        org_id: Path<String>,
        /// 1-based page (default 1).
        page: Query<Option<i64>>,
        /// Rows per page, 1-100 (default 25).
        page_size: Query<Option<i64>>,
        /// `pending`, `active`, `suspended` or `removed` (default: every live membership).
        status: Query<Option<String>>,
    ) -> poem::Result<MemberPageReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        let page = list_members(&platform, &caller, page.0, page_size.0, status.0).await?;
        Ok(MemberPageReply::Ok(Json(page)))
    }

    /// Adds a user as an active member (roles default to `org_member`).
    #[oai(
        path = "/admin/organizations/:org_id/members",
        method = "post",
        operation_id = "adminAddMember"
    )]
    async fn add(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id.
        org_id: Path<String>,
        body: Json<AddMember>,
    ) -> poem::Result<SuccessReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        add_member(&platform, &cx, &caller, body.0).await?;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }

    /// Removes a member (never the owner).
    #[oai(
        path = "/admin/organizations/:org_id/members/:user_id",
        method = "delete",
        operation_id = "adminRemoveMember"
    )]
    async fn remove(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id.
        org_id: Path<String>,
        /// The member's user id.
        user_id: Path<String>,
    ) -> poem::Result<SuccessReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        set_member_status(&platform, &cx, &caller, &user_id.0, "removed").await?;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }

    /// Sets a member's status (the owner stays active).
    #[oai(
        path = "/admin/organizations/:org_id/members/:user_id/status",
        method = "put",
        operation_id = "adminSetMemberStatus"
    )]
    async fn status(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id.
        org_id: Path<String>,
        /// The member's user id.
        user_id: Path<String>,
        body: Json<MemberStatus>,
    ) -> poem::Result<SuccessReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        set_member_status(&platform, &cx, &caller, &user_id.0, &body.0.status).await?;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }

    /// Replaces a member's roles (`[]` clears) and bumps their token version (§9.6).
    #[oai(
        path = "/admin/organizations/:org_id/members/:user_id/roles",
        method = "put",
        operation_id = "adminSetMemberRoles"
    )]
    async fn roles(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id.
        org_id: Path<String>,
        /// The member's user id.
        user_id: Path<String>,
        body: Json<MemberRoles>,
    ) -> poem::Result<MemberReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        let user = parse_id("user_id", &user_id.0)?;
        let codes = dedup(
            body.0
                .role_codes
                .ok_or_else(|| ApiError::invalid_input("role_codes", "role_codes is required"))?,
        );
        let mut tx = platform.db.begin().await.map_err(internal)?;
        load_org(&mut tx, &caller, false).await?;
        let found = org_roles::usable_matching(&mut tx, caller.org, &[], &codes)
            .await
            .map_err(internal)?;
        let unknown: Vec<&String> = codes
            .iter()
            .filter(|c| !found.iter().any(|r| &r.code == *c))
            .collect();
        if !unknown.is_empty() {
            return Err(
                ApiError::validation("Unknown role or not an organization role")
                    .with_details(json!({"role_codes": unknown}))
                    .into(),
            );
        }
        let member = members::get(&mut tx, caller.org, user, true)
            .await
            .map_err(internal)?
            .ok_or_else(member_not_found)?;
        let before = members::roles_of(&mut tx, &[member.id])
            .await
            .map_err(internal)?;
        let by = users::exists(&mut tx, caller.actor)
            .await
            .map_err(internal)?
            .then_some(caller.actor);
        let ids: Vec<Uuid> = found.iter().map(|r| r.id).collect();
        members::replace_roles(&mut tx, member.id, &ids, by)
            .await
            .map_err(internal)?;
        let bumps = bump_all(&mut tx, &[user]).await?;
        let before: Vec<&str> = before.iter().map(|r| r.role.code.as_str()).collect();
        let after: Vec<&str> = found.iter().map(|r| r.code.as_str()).collect();
        let event = cx
            .event("organization.member_roles_changed", Some(caller.actor))?
            .organization(caller.org)
            .resource("organization_member", Some(member.id))
            .details(json!({"before": before, "after": after}))
            .subject_user(user);
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        let mut out = with_roles(&mut tx, vec![member]).await?;
        tx.commit().await.map_err(internal)?;
        publish_all(&platform, bumps).await;
        let member = out.pop().ok_or_else(member_not_found)?;
        Ok(MemberReply::Ok(Json(member)))
    }
}
