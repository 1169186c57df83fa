//! `/admin/organizations` and `/admin/organizations/{orgId}` (contract §2.10), and
//! `GET /admin/users/{userId}/organizations`. Gate: platform admin (`system_admin` or
//! `super_admin`, §9.8).

use auth_edge::ApiError;
use auth_host::Platform;
use jwt_verify::AccessClaims;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use serde_json::json;

use super::ApiTags;
use super::common::{AuditCtx, caller_id, internal, parse_id, require_platform_admin};
use super::grants::user_not_found;
use super::me_orgs::memberships_of;
use super::org_dto::{
    CreateOrganization, OrgPagination, Organization, OrganizationPage, SuccessBody,
    UpdateOrganization,
};
use super::org_gate::{OrgCaller, bump_all, load_org, publish_all};
use super::org_ops::{field, new_fields, slug_conflict, slug_taken, update_org};
use super::org_replies::{MyOrgsReply, OrgCreatedReply, OrgPageReply, OrgReply, SuccessReply};
use crate::domain::orgs::{self as rules, ORG_STATUSES, OrgSort, Page};
use crate::repo::{members, org_roles, orgs, users};

/// The platform-admin gate for one organisation of the path.
pub fn admin_caller(claims: &AccessClaims, raw_org: &str) -> Result<OrgCaller, ApiError> {
    require_platform_admin(claims)?;
    Ok(OrgCaller {
        org: parse_id("org_id", raw_org)?,
        actor: caller_id(claims)?,
        grantable: None,
    })
}

/// Organisation administration.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdminOrgsApi;

#[OpenApi(tag = "ApiTags::Organizations")]
impl AdminOrgsApi {
    /// Lists live organisations, one page at a time.
    #[oai(
        path = "/admin/organizations",
        method = "get",
        operation_id = "adminListOrganizations"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// 1-based page (default 1).
        page: Query<Option<i64>>,
        /// Rows per page, 1-100 (default 25).
        page_size: Query<Option<i64>>,
        /// `pending`, `active` or `suspended`.
        status: Query<Option<String>>,
        /// `created_at` (default), `updated_at`, `name`, `slug` or `status`.
        sort_by: Query<Option<String>>,
        /// `ASC` or `DESC` (default).
        sort_order: Query<Option<String>>,
    ) -> poem::Result<OrgPageReply> {
        require_platform_admin(&auth.0)?;
        let page = Page::parse(page.0, page_size.0).map_err(field)?;
        let sort = OrgSort::parse(sort_by.0.as_deref(), sort_order.0.as_deref()).map_err(field)?;
        let status = rules::status_filter(status.0.as_deref(), &ORG_STATUSES).map_err(field)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let (rows, total) = orgs::list(&mut conn, status.as_deref(), sort, page)
            .await
            .map_err(internal)?;
        Ok(OrgPageReply::Ok(Json(OrganizationPage {
            organizations: rows.iter().map(Organization::from).collect(),
            pagination: OrgPagination {
                page: page.page,
                page_size: page.page_size,
                total,
            },
        })))
    }

    /// Creates an organisation; the caller becomes its owner and an active `org_admin`.
    #[oai(
        path = "/admin/organizations",
        method = "post",
        operation_id = "adminCreateOrganization"
    )]
    async fn create(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        body: Json<CreateOrganization>,
    ) -> poem::Result<OrgCreatedReply> {
        require_platform_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let fields = new_fields(body.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        if !users::exists(&mut tx, actor).await.map_err(internal)? {
            return Err(user_not_found().into());
        }
        if orgs::slug_taken(&mut tx, &fields.slug, None)
            .await
            .map_err(internal)?
        {
            return Err(slug_taken().into());
        }
        let org = orgs::insert(&mut tx, &fields, actor)
            .await
            .map_err(slug_conflict)?;
        let admin_role = [crate::api::common::ORG_ADMIN.to_owned()];
        let roles = org_roles::usable_matching(&mut tx, org.id, &[], &admin_role)
            .await
            .map_err(internal)?;
        let membership = members::insert(&mut tx, org.id, actor, "active", None)
            .await
            .map_err(internal)?;
        let ids: Vec<_> = roles.iter().map(|r| r.id).collect();
        members::add_roles(&mut tx, membership, &ids, Some(actor))
            .await
            .map_err(internal)?;
        let event = cx
            .event("organization.created", Some(actor))?
            .organization(org.id)
            .resource("organization", Some(org.id))
            .details(json!({"name": org.name, "slug": org.slug}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(OrgCreatedReply::Created(Json(Organization::from(&org))))
    }

    /// One live organisation.
    #[oai(
        path = "/admin/organizations/:org_id",
        method = "get",
        operation_id = "adminGetOrganization"
    )]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id.
        org_id: Path<String>,
    ) -> poem::Result<OrgReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let org = load_org(&mut conn, &caller, false).await?;
        Ok(OrgReply::Ok(Json(Organization::from(&org))))
    }

    /// Changes an organisation (a new name re-slugs).
    #[oai(
        path = "/admin/organizations/:org_id",
        method = "put",
        operation_id = "adminUpdateOrganization"
    )]
    async fn update(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id.
        org_id: Path<String>,
        body: Json<UpdateOrganization>,
    ) -> poem::Result<OrgReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        let org = update_org(&platform, &cx, &caller, body.0).await?;
        Ok(OrgReply::Ok(Json(org)))
    }

    /// Soft-deletes an organisation: pending invitations are revoked and every member's
    /// token version is bumped (tokens scoped to it stop working). Refused (409) while an
    /// app uses it as its default organisation.
    #[oai(
        path = "/admin/organizations/:org_id",
        method = "delete",
        operation_id = "adminDeleteOrganization"
    )]
    async fn delete(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id.
        org_id: Path<String>,
    ) -> poem::Result<SuccessReply> {
        let caller = admin_caller(&auth.0, &org_id.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let org = load_org(&mut tx, &caller, true).await?;
        let apps = orgs::default_of_apps(&mut tx, org.id)
            .await
            .map_err(internal)?;
        if !apps.is_empty() {
            return Err(ApiError::conflict(
                "The organization is the default organization of an app",
            )
            .with_details(json!({"apps": apps}))
            .into());
        }
        let member_ids = members::live_user_ids(&mut tx, org.id)
            .await
            .map_err(internal)?;
        orgs::soft_delete(&mut tx, org.id).await.map_err(internal)?;
        let bumps = bump_all(&mut tx, &member_ids).await?;
        let event = cx
            .event("organization.deleted", Some(caller.actor))?
            .organization(org.id)
            .resource("organization", Some(org.id))
            .details(json!({"slug": org.slug, "members": member_ids.len()}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        publish_all(&platform, bumps).await;
        Ok(SuccessReply::Ok(Json(SuccessBody::ok())))
    }

    /// A user's memberships (same shape as `GET /me/orgs`).
    #[oai(
        path = "/admin/users/:user_id/organizations",
        method = "get",
        operation_id = "adminListUserOrganizations"
    )]
    async fn user_orgs(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// User id.
        user_id: Path<String>,
    ) -> poem::Result<MyOrgsReply> {
        require_platform_admin(&auth.0)?;
        let user = parse_id("user_id", &user_id.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        if !users::exists(&mut conn, user).await.map_err(internal)? {
            return Err(user_not_found().into());
        }
        Ok(MyOrgsReply::Ok(Json(
            memberships_of(&mut conn, user).await?,
        )))
    }
}
