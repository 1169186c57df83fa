//! `/orgs/{orgId}/invitations*` (contract §2.9): invite by email with a 6-character code
//! and a 64-character emailed token (never shown), list, revoke. Behind the org-permission
//! gate (§9.7); invited roles may only carry permissions the inviter holds (AZ-03).

use auth_edge::{ApiError, ErrorCode, ErrorEnvelope};
use auth_host::Platform;
use chrono::Utc;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiTags;
use super::common::{AuditCtx, internal, parse_id, ts, ts_opt};
use super::invitation_mail::{InvitationText, compose, link_base, send_later};
use super::org_dto::{OrgPagination, Organization};
use super::org_gate::{load_org, org_gate};
use super::org_ops::{field, member_roles_by_id, refuse_roles, ungrantable};
use crate::domain::invitations::{new_code, new_token};
use crate::domain::orgs::{INVITATION_STATUSES, Page, normalize_email, status_filter};
use crate::repo::invitations::{self, InvitationRow, NewInvitation};
use crate::repo::users;
use crate::state::Shared;

/// An invitation (the contract's raw record; the secret token is never included).
#[derive(Debug, Clone, Object)]
pub struct Invitation {
    /// Id.
    pub id: String,
    /// Inviting organisation.
    pub organization_id: String,
    /// Invitee address.
    pub email: String,
    /// The 6-character code (shown to callers who may invite, and to the verified invitee).
    #[oai(skip_serializing_if_is_none)]
    pub code: Option<String>,
    /// Roles granted on acceptance (none = `org_member`).
    pub role_ids: Vec<String>,
    /// Inviter.
    pub invited_by: Option<String>,
    /// Expiry.
    pub expires_at: String,
    /// `pending`, `accepted`, `declined`, `expired` or `revoked`.
    pub status: String,
    /// Acceptance time.
    #[oai(skip_serializing_if_is_none)]
    pub accepted_at: Option<String>,
    /// Who accepted.
    #[oai(skip_serializing_if_is_none)]
    pub accepted_by: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// The inviting organisation (in `/me/invitations`).
    #[oai(skip_serializing_if_is_none)]
    pub organization: Option<Organization>,
}

impl Invitation {
    /// The record; `show_code` decides whether `code` is included.
    pub fn new(i: &InvitationRow, roles: &[(Uuid, Uuid)], show_code: bool) -> Self {
        Self {
            id: i.id.to_string(),
            organization_id: i.organization_id.to_string(),
            email: i.email.clone(),
            code: show_code.then(|| i.code.clone()),
            role_ids: roles
                .iter()
                .filter(|(inv, _)| *inv == i.id)
                .map(|(_, r)| r.to_string())
                .collect(),
            invited_by: i.invited_by.map(|u| u.to_string()),
            expires_at: ts(i.expires_at),
            status: i.status.clone(),
            accepted_at: ts_opt(i.accepted_at),
            accepted_by: i.accepted_by.map(|u| u.to_string()),
            created_at: ts(i.created_at),
            updated_at: ts(i.updated_at),
            organization: None,
        }
    }
}

/// Body of `POST /orgs/{orgId}/invitations`.
#[derive(Debug, Object)]
pub struct CreateInvitation {
    /// Invitee address.
    pub email: String,
    /// Roles granted on acceptance (organisation roles or this organisation's custom roles).
    pub role_ids: Option<Vec<String>>,
}

/// `{invitations, pagination}`.
#[derive(Debug, Object)]
pub struct InvitationPage {
    /// This page, newest first.
    pub invitations: Vec<Invitation>,
    /// Paging.
    pub pagination: OrgPagination,
}

/// Replies of `POST /orgs/{orgId}/invitations`.
#[derive(ApiResponse)]
pub enum CreateInvitationReply {
    /// Created (the invitee is emailed the code and token).
    #[oai(status = 201)]
    Created(Json<Invitation>),
    /// Bad email, malformed id, unknown or non-organisation role.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused, or a role with permissions the caller does not hold.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// Already a member, or a pending invitation exists for the address.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `GET /orgs/{orgId}/invitations`.
#[derive(ApiResponse)]
pub enum InvitationPageReply {
    /// One page.
    #[oai(status = 200)]
    Ok(Json<InvitationPage>),
    /// Bad paging or status.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /orgs/{orgId}/invitations/{invitationId}`.
#[derive(ApiResponse)]
pub enum RevokeInvitationReply {
    /// Revoked.
    #[oai(status = 204)]
    NoContent,
    /// Malformed id, or no longer pending (`INVITE_ALREADY_USED`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such invitation in this organisation.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// 404 `NOT_FOUND` "invitation not found".
pub fn invitation_not_found() -> ApiError {
    ApiError::not_found("invitation not found")
}

/// 400 `INVITE_ALREADY_USED`.
pub fn already_used() -> ApiError {
    ApiError::new(
        ErrorCode::InviteAlreadyUsed,
        "Invitation has already been used",
    )
}

/// Inserts with fresh draws of code and token; returns the row and its token.
async fn insert(
    conn: &mut PgConnection,
    n: NewInvitation<'_>,
) -> Result<(InvitationRow, String), ApiError> {
    for _ in 0..8 {
        let (code, token) = (new_code(), new_token());
        let row = invitations::insert(
            conn,
            &NewInvitation {
                code: &code,
                token: &token,
                ..n.clone()
            },
        )
        .await
        .map_err(internal)?;
        if let Some(row) = row {
            return Ok((row, token));
        }
    }
    Err(internal("no free invitation code after 8 draws"))
}

/// Organisation invitations.
#[derive(Debug, Default, Clone)]
pub struct OrgInvitationsApi {
    /// Per-application state (the mailer).
    pub shared: Shared,
}

#[OpenApi(tag = "ApiTags::Orgs")]
impl OrgInvitationsApi {
    /// Invites an email address (`org:members:invite`).
    #[oai(
        path = "/orgs/:org_id/invitations",
        method = "post",
        operation_id = "createInvitation"
    )]
    async fn create(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        body: Json<CreateInvitation>,
    ) -> poem::Result<CreateInvitationReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:invite")?;
        let email = normalize_email("email", &body.0.email).map_err(field)?;
        let role_ids = body.0.role_ids.filter(|r| !r.is_empty());
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let org = load_org(&mut tx, &caller, false).await?;
        let roles = match role_ids {
            None => Vec::new(),
            Some(ids) => member_roles_by_id(&mut tx, caller.org, Some(ids)).await?,
        };
        let refused = ungrantable(&mut tx, &caller, &roles).await?;
        if !refused.is_empty() {
            drop(tx);
            return Err(refuse_roles(&platform, &cx, &caller, refused).await.into());
        }
        if invitations::member_with_email(&mut tx, caller.org, &email)
            .await
            .map_err(internal)?
        {
            return Err(ApiError::conflict("This person is already a member").into());
        }
        if invitations::pending_exists(&mut tx, caller.org, &email)
            .await
            .map_err(internal)?
        {
            return Err(ApiError::conflict("A pending invitation for this email exists").into());
        }
        let invited_by = users::exists(&mut tx, caller.actor)
            .await
            .map_err(internal)?
            .then_some(caller.actor);
        let expiry = chrono::Duration::from_std(platform.settings.auth.invitation_expiry)
            .map_err(internal)?;
        let (row, token) = insert(
            &mut tx,
            NewInvitation {
                organization_id: caller.org,
                email: &email,
                code: "",
                token: "",
                invited_by,
                expires_at: Utc::now() + expiry,
            },
        )
        .await?;
        let ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
        invitations::add_roles(&mut tx, row.id, &ids)
            .await
            .map_err(internal)?;
        let event = cx
            .event("invitation.created", Some(caller.actor))?
            .organization(caller.org)
            .resource("invitation", Some(row.id))
            .details(json!({"email": email, "role_ids": ids}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        let base = link_base(&mut tx, &platform, &auth.0.app_code).await?;
        let inviter = format!("{} {}", auth.0.first_name, auth.0.last_name);
        let mail = compose(
            &base,
            &InvitationText {
                to: &email,
                organization: &org.name,
                inviter: inviter.trim(),
                code: &row.code,
                token: &token,
                hours: platform.settings.auth.invitation_expiry.as_secs() / 3600,
            },
        );
        let failed = cx
            .event("invitation.email_failed", Some(caller.actor))?
            .organization(caller.org)
            .resource("invitation", Some(row.id));
        tx.commit().await.map_err(internal)?;
        let mailer = self.shared.get(&platform).mailer.clone();
        send_later(&platform, mailer, mail, failed);
        let pairs: Vec<(Uuid, Uuid)> = ids.iter().map(|r| (row.id, *r)).collect();
        Ok(CreateInvitationReply::Created(Json(Invitation::new(
            &row, &pairs, true,
        ))))
    }

    /// The organisation's invitations, newest first (`org:members:read`; codes only for
    /// callers holding `org:members:invite`).
    #[oai(
        path = "/orgs/:org_id/invitations",
        method = "get",
        operation_id = "listInvitations"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// 1-based page (default 1).
        page: Query<Option<i64>>,
        /// Rows per page, 1-100 (default 25).
        page_size: Query<Option<i64>>,
        /// `pending`, `accepted`, `declined`, `expired` or `revoked`.
        status: Query<Option<String>>,
    ) -> poem::Result<InvitationPageReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:read")?;
        let page = Page::parse(page.0, page_size.0).map_err(field)?;
        let status = status_filter(status.0.as_deref(), &INVITATION_STATUSES).map_err(field)?;
        let show_code = caller.unrestricted() || auth.0.has_permission("org:members:invite");
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        load_org(&mut conn, &caller, false).await?;
        let (rows, total) =
            invitations::list_for_org(&mut conn, caller.org, status.as_deref(), page)
                .await
                .map_err(internal)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let roles = invitations::role_ids(&mut conn, &ids)
            .await
            .map_err(internal)?;
        Ok(InvitationPageReply::Ok(Json(InvitationPage {
            invitations: rows
                .iter()
                .map(|r| Invitation::new(r, &roles, show_code))
                .collect(),
            pagination: OrgPagination {
                page: page.page,
                page_size: page.page_size,
                total,
            },
        })))
    }

    /// Revokes a pending invitation (`org:members:invite`).
    #[oai(
        path = "/orgs/:org_id/invitations/:invitation_id",
        method = "delete",
        operation_id = "revokeInvitation"
    )]
    async fn revoke(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Organisation id (the token's `org_id`).
        org_id: Path<String>,
        /// Invitation id.
        invitation_id: Path<String>,
    ) -> poem::Result<RevokeInvitationReply> {
        let caller = org_gate(&auth.0, &org_id.0, "org:members:invite")?;
        let id = parse_id("invitation_id", &invitation_id.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        load_org(&mut tx, &caller, false).await?;
        let inv = invitations::get(&mut tx, id, true)
            .await
            .map_err(internal)?
            .filter(|i| i.organization_id == caller.org)
            .ok_or_else(invitation_not_found)?;
        if !invitations::finish(&mut tx, inv.id, "revoked", None)
            .await
            .map_err(internal)?
        {
            return Err(already_used().into());
        }
        let event = cx
            .event("invitation.revoked", Some(caller.actor))?
            .organization(caller.org)
            .resource("invitation", Some(inv.id));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(RevokeInvitationReply::NoContent)
    }
}
