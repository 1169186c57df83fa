//! Org self-service: `/orgs/{orgId}` and its members (contract §2.9) behind the
//! org-permission gate (§9.7). A restricted caller may only hand out roles whose
//! permissions its token holds (AZ-03).

use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::ApiTags;
use super::common::{AuditCtx, internal};
use super::org_dto::{AddMember, MemberStatus, Organization, SuccessBody, UpdateOrganization};
use super::org_gate::{load_org, org_gate};
use super::org_ops::{add_member, list_members, set_member_status, update_org};
use super::org_replies::{MemberPageReply, OrgReply, SuccessReply};

/// The caller's organisation.
#[derive(Debug, Default, Clone, Copy)]
pub struct OrgsApi;

#[OpenApi(tag = "ApiTags::Orgs")]
impl OrgsApi {
    /// The organisation (`org:read`).
    #[oai(path = "/orgs/:org_id", method = "get", operation_id = "getOrg")]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
    ) -> poem::Result<OrgReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:read")?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let org = load_org(&mut conn, &caller, false).await?;
        Ok(OrgReply::Ok(Json(Organization::from(&org))))
    }

    /// Changes the organisation (`org:update`; a new name re-slugs).
    #[oai(path = "/orgs/:org_id", method = "put", operation_id = "updateOrg")]
    async fn update(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        body: Json<UpdateOrganization>,
    ) -> poem::Result<OrgReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:update")?;
        let org = update_org(&platform, &cx, &caller, body.0).await?;
        Ok(OrgReply::Ok(Json(org)))
    }

    /// The members, one page at a time (`org:members:read`).
    #[oai(
        path = "/orgs/:org_id/members",
        method = "get",
        operation_id = "listOrgMembers"
    )]
    async fn members(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// 1-based page (default 1).
        page: Query<Option<i64>>,
        /// Rows per page, 1-100 (default 25).
        page_size: Query<Option<i64>>,
        /// `pending`, `active`, `suspended` or `removed` (default: every live membership).
        status: Query<Option<String>>,
    ) -> poem::Result<MemberPageReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:read")?;
        let page = list_members(&platform, &caller, page.0, page_size.0, status.0).await?;
        Ok(MemberPageReply::Ok(Json(page)))
    }

    /// Adds a user as an active member (`org:members:invite`; roles default to
    /// `org_member` and may only carry permissions the caller holds).
    #[oai(
        path = "/orgs/:org_id/members",
        method = "post",
        operation_id = "addOrgMember"
    )]
    async fn add(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        body: Json<AddMember>,
    ) -> poem::Result<SuccessReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:invite")?;
        add_member(&platform, &cx, &caller, body.0).await?;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }

    /// Removes a member (`org:members:remove`; never the owner).
    #[oai(
        path = "/orgs/:org_id/members/:user_id",
        method = "delete",
        operation_id = "removeOrgMember"
    )]
    async fn remove(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// The member's user id.
        user_id: Path<String>,
    ) -> poem::Result<SuccessReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:remove")?;
        set_member_status(&platform, &cx, &caller, &user_id.0, "removed").await?;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }

    /// Sets a member's status (`org:members:update`; the owner stays active).
    #[oai(
        path = "/orgs/:org_id/members/:user_id/status",
        method = "put",
        operation_id = "setOrgMemberStatus"
    )]
    async fn status(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// The member's user id.
        user_id: Path<String>,
        body: Json<MemberStatus>,
    ) -> poem::Result<SuccessReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:update")?;
        set_member_status(&platform, &cx, &caller, &user_id.0, &body.0.status).await?;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }
}
