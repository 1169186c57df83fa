//! Reply enums shared by the organisation routes (one per reply shape).

use auth_edge::ErrorEnvelope;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::org_dto::{MemberPage, MyOrgs, OrgMember, Organization, OrganizationPage, SuccessBody};

/// Replies carrying one organisation.
#[derive(ApiResponse)]
pub enum OrgReply {
    /// The organisation.
    #[oai(status = 200)]
    Ok(Json<Organization>),
    /// Bad input or malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// `ORGANIZATION_NOT_FOUND`.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// `ORGANIZATION_ALREADY_EXISTS` (the new name's slug is taken).
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `POST /admin/organizations`.
#[derive(ApiResponse)]
pub enum OrgCreatedReply {
    /// Created; the caller is its owner and an active `org_admin` member.
    #[oai(status = 201)]
    Created(Json<Organization>),
    /// Bad input.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// The caller's account does not exist.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// `ORGANIZATION_ALREADY_EXISTS` (slug taken).
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `GET /admin/organizations`.
#[derive(ApiResponse)]
pub enum OrgPageReply {
    /// One page.
    #[oai(status = 200)]
    Ok(Json<OrganizationPage>),
    /// Bad paging, sorting or status.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Replies `{"success": true}`.
#[derive(ApiResponse)]
pub enum SuccessReply {
    /// Done.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Bad input, or the owner cannot be removed or suspended (`VALIDATION_ERROR`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Gate refused, or roles or a member with permissions the caller does not hold.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such organisation, user or member.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// Already a member, or (deletion) the organisation is an app's default organisation.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of the member listings.
#[derive(ApiResponse)]
pub enum MemberPageReply {
    /// One page.
    #[oai(status = 200)]
    Ok(Json<MemberPage>),
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

/// Replies carrying one membership.
#[derive(ApiResponse)]
pub enum MemberReply {
    /// The membership.
    #[oai(status = 200)]
    Ok(Json<OrgMember>),
    /// `role_codes` absent (`INVALID_INPUT`) or an unknown / non-organisation role
    /// (`VALIDATION_ERROR`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such organisation or member.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of the membership listings of one user.
#[derive(ApiResponse)]
pub enum MyOrgsReply {
    /// The memberships.
    #[oai(status = 200)]
    Ok(Json<MyOrgs>),
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
