//! Reply shapes shared by several routes (contract §2.1 "Response field definitions").

use chrono::{DateTime, Utc};
use poem_openapi::Object;

use crate::repo::orgs::OrgRow;
use crate::repo::users::UserRow;

/// RFC 3339, seconds precision, UTC (`2006-01-02T15:04:05Z`).
#[must_use]
pub fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub use auth_api_types::{SuccessBody, TokenResponse};

/// A role as admin lists show it.
#[derive(Debug, Clone, Object)]
pub struct RoleRef {
    /// Role code.
    pub code: String,
    /// Role name.
    pub name: String,
}

/// `UserResponse`: the public view of a user.
#[derive(Debug, Clone, Object)]
pub struct UserResponse {
    /// User id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Phone number.
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    /// Whether the phone is verified.
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
    /// `local`, `google`, `apple`, ...
    pub auth_provider: String,
    /// Whether TOTP is set up (true from setup on, see §5.8).
    pub two_factor_enabled: bool,
    /// Last successful login.
    #[oai(skip_serializing_if_is_none)]
    pub last_login_at: Option<String>,
    /// Created.
    pub created_at: String,
    /// Last updated.
    pub updated_at: String,
    /// Base roles (admin lists only).
    #[oai(skip_serializing_if_is_none)]
    pub roles: Option<Vec<RoleRef>>,
}

impl From<&UserRow> for UserResponse {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            email_verified: u.email_verified.unwrap_or(false),
            phone: u.phone.clone().filter(|p| !p.is_empty()),
            phone_verified: u.phone.as_ref().map(|_| u.phone_verified.unwrap_or(false)),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            display_name: u.display_name.clone().filter(|d| !d.is_empty()),
            avatar_url: u.avatar_url.clone().filter(|a| !a.is_empty()),
            status: u.status.clone(),
            auth_provider: u.auth_provider.clone(),
            two_factor_enabled: u.two_factor_enabled.unwrap_or(false),
            last_login_at: u.last_login_at.map(ts),
            created_at: ts(u.created_at),
            updated_at: ts(u.updated_at),
            roles: None,
        }
    }
}

/// The raw user record (magic-link verify, admin get): `UserResponse` plus the internal
/// fields, never the password hash or the TOTP secret.
#[derive(Debug, Clone, Object)]
pub struct UserRecord {
    /// The public fields.
    #[oai(flatten)]
    pub user: UserResponse,
    /// Home pool.
    pub namespace: String,
    /// Free-form metadata.
    #[oai(skip_serializing_if_is_none)]
    pub metadata: Option<serde_json::Value>,
    /// When TOTP was confirmed.
    #[oai(skip_serializing_if_is_none)]
    pub two_factor_confirmed_at: Option<String>,
    /// Consecutive failed logins.
    pub failed_login_attempts: i32,
    /// Locked until then.
    #[oai(skip_serializing_if_is_none)]
    pub locked_until: Option<String>,
    /// Last password change.
    #[oai(skip_serializing_if_is_none)]
    pub last_password_change: Option<String>,
    /// Soft-deleted at.
    #[oai(skip_serializing_if_is_none)]
    pub deleted_at: Option<String>,
}

impl From<&UserRow> for UserRecord {
    fn from(u: &UserRow) -> Self {
        Self {
            user: UserResponse::from(u),
            namespace: u.namespace.clone(),
            metadata: u.metadata.clone(),
            two_factor_confirmed_at: u.two_factor_confirmed_at.map(ts),
            failed_login_attempts: u.failed_login_attempts.unwrap_or(0),
            locked_until: u.locked_until.map(ts),
            last_password_change: u.last_password_change.map(ts),
            deleted_at: u.deleted_at.map(ts),
        }
    }
}

/// `OrganizationResponse`.
#[derive(Debug, Clone, Object)]
pub struct OrganizationResponse {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Description.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// Logo URL.
    #[oai(skip_serializing_if_is_none)]
    pub logo_url: Option<String>,
    /// Website.
    #[oai(skip_serializing_if_is_none)]
    pub website: Option<String>,
    /// Status.
    pub status: String,
    /// Contact email.
    #[oai(skip_serializing_if_is_none)]
    pub contact_email: Option<String>,
    /// Contact phone.
    #[oai(skip_serializing_if_is_none)]
    pub contact_phone: Option<String>,
    /// Address.
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
    /// Owner.
    pub owner_id: String,
    /// Plan.
    #[oai(skip_serializing_if_is_none)]
    pub plan: Option<String>,
    /// SSO enabled.
    pub sso_enabled: bool,
    /// Created.
    pub created_at: String,
    /// Last updated.
    pub updated_at: String,
}

impl From<&OrgRow> for OrganizationResponse {
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

/// `LoginResponse`.
#[derive(Debug, Clone, Object)]
pub struct LoginResponseBody {
    /// The user.
    pub user: UserResponse,
    /// The organisation, when the tokens are org-scoped.
    #[oai(skip_serializing_if_is_none)]
    pub organization: Option<OrganizationResponse>,
    /// The token pair.
    pub tokens: TokenResponse,
    /// Role codes in the access token.
    pub roles: Vec<String>,
    /// Permission codes in the access token.
    pub permissions: Vec<String>,
}

impl From<crate::flows::login::LoginSuccess> for LoginResponseBody {
    fn from(s: crate::flows::login::LoginSuccess) -> Self {
        Self {
            user: UserResponse::from(&s.user),
            organization: s.organization.as_ref().map(OrganizationResponse::from),
            tokens: s.tokens.into(),
            roles: s.roles,
            permissions: s.permissions,
        }
    }
}

/// Parses an optional UUID field; blank is `None`, junk is 400 `INVALID_INPUT` naming it.
pub fn optional_uuid(
    field: &str,
    value: Option<&str>,
) -> Result<Option<uuid::Uuid>, auth_edge::ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => uuid::Uuid::parse_str(v)
            .map(Some)
            .map_err(|_| auth_edge::ApiError::invalid_input(field, format!("invalid {field}"))),
    }
}
