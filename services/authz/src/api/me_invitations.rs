//! `/me/invitations*` (contract §2.8): the caller's pending invitations, accept (membership
//! with the invitation's roles, or `org_member`) and decline. An invitation addressed to
//! another email is "not found"; acting on one needs a verified email.

use auth_edge::{ApiError, ErrorCode, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiTags;
use super::common::{AuditCtx, caller_id, internal, parse_id};
use super::grants::user_not_found;
use super::invitations::{Invitation, already_used, invitation_not_found};
use super::org_dto::Organization;
use crate::repo::invitations::{self, InvitationRow};
use crate::repo::{members, org_roles, orgs, users};

/// `{invitations: [Invitation]}`.
#[derive(Debug, Object)]
pub struct MyInvitations {
    /// Pending, unexpired invitations addressed to the caller's email.
    pub invitations: Vec<Invitation>,
}

/// `{organization}`.
#[derive(Debug, Object)]
pub struct AcceptedInvitation {
    /// The organisation joined.
    pub organization: Organization,
}

/// Replies of `GET /me/invitations`.
#[derive(ApiResponse)]
pub enum MyInvitationsReply {
    /// The invitations.
    #[oai(status = 200)]
    Ok(Json<MyInvitations>),
    /// The caller's account is gone.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `POST /me/invitations/{invitationId}/accept`.
#[derive(ApiResponse)]
pub enum AcceptReply {
    /// Joined; refresh with `organization_id` to switch the token to it.
    #[oai(status = 200)]
    Ok(Json<AcceptedInvitation>),
    /// Malformed id, `INVITE_EXPIRED` or `INVITE_ALREADY_USED`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `EMAIL_NOT_VERIFIED`.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such invitation for the caller.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// A concurrent change made the caller a member meanwhile.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `POST /me/invitations/{invitationId}/decline`.
#[derive(ApiResponse)]
pub enum DeclineReply {
    /// Declined.
    #[oai(status = 204)]
    NoContent,
    /// Malformed id or `INVITE_ALREADY_USED`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `EMAIL_NOT_VERIFIED`.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such invitation for the caller.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// The invitation, locked, when it is addressed to the caller (else 404), once the
/// caller's email is verified (else 403 `EMAIL_NOT_VERIFIED`).
async fn mine(conn: &mut PgConnection, me: Uuid, raw: &str) -> Result<InvitationRow, ApiError> {
    let id = parse_id("invitation_id", raw)?;
    let (email, verified) = users::email_of(conn, me)
        .await
        .map_err(internal)?
        .ok_or_else(user_not_found)?;
    let inv = invitations::get(conn, id, true)
        .await
        .map_err(internal)?
        .filter(|i| i.email.trim().eq_ignore_ascii_case(email.trim()))
        .ok_or_else(invitation_not_found)?;
    if !verified {
        return Err(ApiError::new(
            ErrorCode::EmailNotVerified,
            "Verify your email address before answering invitations",
        ));
    }
    Ok(inv)
}

/// The caller's invitations.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeInvitationsApi;

#[OpenApi(tag = "ApiTags::Me")]
impl MeInvitationsApi {
    /// Pending invitations addressed to the caller's email.
    #[oai(
        path = "/me/invitations",
        method = "get",
        operation_id = "listMyInvitations"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<MyInvitationsReply> {
        let me = caller_id(&auth.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let (email, verified) = users::email_of(&mut conn, me)
            .await
            .map_err(internal)?
            .ok_or_else(user_not_found)?;
        let rows = invitations::pending_for_email(&mut conn, &email)
            .await
            .map_err(internal)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let roles = invitations::role_ids(&mut conn, &ids)
            .await
            .map_err(internal)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut inv = Invitation::new(r, &roles, verified);
            inv.organization = orgs::get(&mut conn, r.organization_id, false)
                .await
                .map_err(internal)?
                .as_ref()
                .map(Organization::from);
            out.push(inv);
        }
        Ok(MyInvitationsReply::Ok(Json(MyInvitations {
            invitations: out,
        })))
    }

    /// Accepts an invitation: the caller becomes an active member with its roles (or
    /// `org_member`). The token is not re-scoped.
    #[oai(
        path = "/me/invitations/:invitation_id/accept",
        method = "post",
        operation_id = "acceptMyInvitation"
    )]
    async fn accept(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Invitation id.
        invitation_id: Path<String>,
    ) -> poem::Result<AcceptReply> {
        let me = caller_id(&auth.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let inv = mine(&mut tx, me, &invitation_id.0).await?;
        match inv.status.as_str() {
            "pending" => {}
            "expired" => {
                return Err(
                    ApiError::new(ErrorCode::InviteExpired, "Invitation has expired").into(),
                );
            }
            _ => return Err(already_used().into()),
        }
        let org = orgs::get(&mut tx, inv.organization_id, false)
            .await
            .map_err(internal)?
            .ok_or_else(invitation_not_found)?;
        let wanted: Vec<Uuid> = invitations::role_ids(&mut tx, &[inv.id])
            .await
            .map_err(internal)?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let fallback = [auth_tokens::ORG_MEMBER_ROLE.to_owned()];
        let codes: &[String] = if wanted.is_empty() { &fallback } else { &[] };
        let roles = org_roles::usable_matching(&mut tx, org.id, &wanted, codes)
            .await
            .map_err(internal)?;
        let role_ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
        let membership = match members::get(&mut tx, org.id, me, true)
            .await
            .map_err(internal)?
        {
            Some(m) => {
                if m.status == "pending" {
                    members::set_status(&mut tx, m.id, "active")
                        .await
                        .map_err(internal)?;
                }
                m.id
            }
            None => members::insert(&mut tx, org.id, me, "active", inv.invited_by)
                .await
                .map_err(|e| match auth_db::unique_violation(&e) {
                    Some(_) => ApiError::conflict("Already a member of this organization"),
                    None => internal(e),
                })?,
        };
        members::add_roles(&mut tx, membership, &role_ids, inv.invited_by)
            .await
            .map_err(internal)?;
        if !invitations::finish(&mut tx, inv.id, "accepted", Some(me))
            .await
            .map_err(internal)?
        {
            return Err(already_used().into());
        }
        let codes: Vec<&str> = roles.iter().map(|r| r.code.as_str()).collect();
        let event = cx
            .event("invitation.accepted", Some(me))?
            .organization(org.id)
            .resource("invitation", Some(inv.id))
            .details(serde_json::json!({"membership_id": membership, "roles": codes}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(AcceptReply::Ok(Json(AcceptedInvitation {
            organization: Organization::from(&org),
        })))
    }

    /// Declines an invitation.
    #[oai(
        path = "/me/invitations/:invitation_id/decline",
        method = "post",
        operation_id = "declineMyInvitation"
    )]
    async fn decline(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// Invitation id.
        invitation_id: Path<String>,
    ) -> poem::Result<DeclineReply> {
        let me = caller_id(&auth.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let inv = mine(&mut tx, me, &invitation_id.0).await?;
        if !invitations::finish(&mut tx, inv.id, "declined", None)
            .await
            .map_err(internal)?
        {
            return Err(already_used().into());
        }
        let event = cx
            .event("invitation.declined", Some(me))?
            .organization(inv.organization_id)
            .resource("invitation", Some(inv.id));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(DeclineReply::NoContent)
    }
}
