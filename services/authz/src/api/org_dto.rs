//! Organisation DTOs (contract §2.9, §2.10 shapes OrganizationResponse and MemberResponse,
//! the `/me/orgs` memberships of §2.8 and §9.19).
//!
//! Schema names differ from identity's `OrganizationResponse`/`UserResponse` because the
//! all-in-one server puts every service into one OpenAPI registry.

use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;

use super::common::{ts, ts_opt};
use super::role_dto::RoleResponse;
use crate::repo::members::MemberRow;
use crate::repo::orgs::OrgRow;

/// An organisation (the contract's OrganizationResponse).
#[derive(Debug, Clone, Object)]
pub struct Organization {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Slug (from the name; unique among live organisations).
    pub slug: String,
    /// Free text.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// Logo URL.
    #[oai(skip_serializing_if_is_none)]
    pub logo_url: Option<String>,
    /// Website.
    #[oai(skip_serializing_if_is_none)]
    pub website: Option<String>,
    /// `pending`, `active`, `suspended` or `deleted`.
    pub status: String,
    /// Contact email.
    #[oai(skip_serializing_if_is_none)]
    pub contact_email: Option<String>,
    /// Contact phone.
    #[oai(skip_serializing_if_is_none)]
    pub contact_phone: Option<String>,
    /// Street address.
    #[oai(skip_serializing_if_is_none)]
    pub address: Option<String>,
    /// City.
    #[oai(skip_serializing_if_is_none)]
    pub city: Option<String>,
    /// State.
    #[oai(skip_serializing_if_is_none)]
    pub state: Option<String>,
    /// Country.
    #[oai(skip_serializing_if_is_none)]
    pub country: Option<String>,
    /// Postal code.
    #[oai(skip_serializing_if_is_none)]
    pub postal_code: Option<String>,
    /// The owner (cannot be removed or suspended).
    pub owner_id: String,
    /// Plan.
    #[oai(skip_serializing_if_is_none)]
    pub plan: Option<String>,
    /// Per-organisation SSO.
    pub sso_enabled: bool,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&OrgRow> for Organization {
    fn from(o: &OrgRow) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name.clone(),
            slug: o.slug.clone(),
            description: o.description.clone(),
            logo_url: o.logo_url.clone(),
            website: o.website.clone(),
            status: o.status.clone(),
            contact_email: o.contact_email.clone(),
            contact_phone: o.contact_phone.clone(),
            address: o.address.clone(),
            city: o.city.clone(),
            state: o.state.clone(),
            country: o.country.clone(),
            postal_code: o.postal_code.clone(),
            owner_id: o.owner_id.to_string(),
            plan: o.plan.clone(),
            sso_enabled: o.sso_enabled.unwrap_or(false),
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
        }
    }
}

/// `{page, page_size, total}`.
#[derive(Debug, Clone, Object)]
pub struct OrgPagination {
    /// 1-based page.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
    /// Rows in all pages.
    pub total: i64,
}

/// `{organizations, pagination}`.
#[derive(Debug, Object)]
pub struct OrganizationPage {
    /// This page.
    pub organizations: Vec<Organization>,
    /// Paging.
    pub pagination: OrgPagination,
}

/// Body of `POST /admin/organizations`.
#[derive(Debug, Object)]
pub struct CreateOrganization {
    /// Name (the slug is derived from it).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

/// Body of `PUT /orgs/{orgId}` and `PUT /admin/organizations/{orgId}`: any of the fields;
/// `null` or `""` clears an optional one; a new `name` re-slugs.
#[derive(Debug, Object)]
pub struct UpdateOrganization {
    /// Name.
    pub name: MaybeUndefined<String>,
    /// Free text.
    pub description: MaybeUndefined<String>,
    /// Logo URL.
    pub logo_url: MaybeUndefined<String>,
    /// Website.
    pub website: MaybeUndefined<String>,
    /// Contact email.
    pub contact_email: MaybeUndefined<String>,
    /// Contact phone.
    pub contact_phone: MaybeUndefined<String>,
    /// Street address.
    pub address: MaybeUndefined<String>,
    /// City.
    pub city: MaybeUndefined<String>,
    /// State.
    pub state: MaybeUndefined<String>,
    /// Country.
    pub country: MaybeUndefined<String>,
    /// Postal code.
    pub postal_code: MaybeUndefined<String>,
}

pub use auth_api_types::SuccessBody;

/// A member's user account (the contract's UserResponse).
#[derive(Debug, Clone, Object)]
pub struct MemberUser {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Email verified.
    pub email_verified: bool,
    /// Phone.
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    /// Phone verified.
    #[oai(skip_serializing_if_is_none)]
    pub phone_verified: Option<bool>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name.
    #[oai(skip_serializing_if_is_none)]
    pub display_name: Option<String>,
    /// Avatar URL.
    #[oai(skip_serializing_if_is_none)]
    pub avatar_url: Option<String>,
    /// `pending`, `active`, `suspended` or `deleted`.
    pub status: String,
    /// `local`, `google`, ...
    pub auth_provider: String,
    /// TOTP enabled.
    pub two_factor_enabled: bool,
    /// Last login.
    #[oai(skip_serializing_if_is_none)]
    pub last_login_at: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// A membership (the contract's MemberResponse).
#[derive(Debug, Clone, Object)]
pub struct OrgMember {
    /// Membership id.
    pub id: String,
    /// The member.
    pub user_id: String,
    /// The organisation.
    pub organization_id: String,
    /// `pending`, `active`, `suspended` or `removed`.
    pub status: String,
    /// When the membership started.
    pub joined_at: String,
    /// The member's account.
    #[oai(skip_serializing_if_is_none)]
    pub user: Option<MemberUser>,
    /// The member's roles in the organisation.
    #[oai(skip_serializing_if_is_none)]
    pub roles: Option<Vec<RoleResponse>>,
}

impl OrgMember {
    /// The membership with its user and `roles`.
    pub fn new(m: &MemberRow, roles: Vec<RoleResponse>) -> Self {
        Self {
            id: m.id.to_string(),
            user_id: m.user_id.to_string(),
            organization_id: m.organization_id.to_string(),
            status: m.status.clone(),
            joined_at: ts(m.joined_at),
            user: Some(MemberUser {
                id: m.user_id.to_string(),
                email: m.email.clone(),
                email_verified: m.email_verified.unwrap_or(false),
                phone: m.phone.clone(),
                phone_verified: m.phone_verified,
                first_name: m.first_name.clone(),
                last_name: m.last_name.clone(),
                display_name: m.display_name.clone(),
                avatar_url: m.avatar_url.clone(),
                status: m.user_status.clone(),
                auth_provider: m.auth_provider.clone(),
                two_factor_enabled: m.two_factor_enabled.unwrap_or(false),
                last_login_at: ts_opt(m.last_login_at),
                created_at: ts(m.user_created_at),
                updated_at: ts(m.user_updated_at),
            }),
            roles: Some(roles),
        }
    }
}

/// `{members, pagination}`.
#[derive(Debug, Object)]
pub struct MemberPage {
    /// This page.
    pub members: Vec<OrgMember>,
    /// Paging.
    pub pagination: OrgPagination,
}

/// Body of `POST .../members`.
#[derive(Debug, Object)]
pub struct AddMember {
    /// The user to add.
    pub user_id: String,
    /// Roles (organisation roles or this organisation's custom roles); none = `org_member`.
    pub role_ids: Option<Vec<String>>,
}

/// Body of `PUT .../members/{userId}/status`.
#[derive(Debug, Object)]
pub struct MemberStatus {
    /// `pending`, `active`, `suspended` or `removed`.
    pub status: String,
}

/// Body of `PUT /admin/organizations/{orgId}/members/{userId}/roles`.
#[derive(Debug, Object)]
pub struct MemberRoles {
    /// The full set (`[]` clears): organisation roles or this organisation's custom roles.
    pub role_codes: Option<Vec<String>>,
}

/// One membership in `GET /me/orgs`.
#[derive(Debug, Object)]
pub struct Membership {
    /// The organisation.
    pub organization: Organization,
    /// Membership status.
    pub status: String,
    /// When it started.
    pub joined_at: String,
    /// Roles held in it.
    pub roles: Vec<RoleResponse>,
}

/// The flat form the SDK reads (§9.19).
#[derive(Debug, Object)]
pub struct MyOrg {
    /// Organisation id.
    pub id: String,
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// The most privileged role held (lowest level).
    #[oai(skip_serializing_if_is_none)]
    pub role: Option<String>,
    /// Membership status.
    pub status: String,
    /// When it started.
    pub joined_at: String,
}

/// `{memberships, organizations}` (§9.19).
#[derive(Debug, Object)]
pub struct MyOrgs {
    /// The documented shape.
    pub memberships: Vec<Membership>,
    /// The same memberships, flattened.
    pub organizations: Vec<MyOrg>,
}
