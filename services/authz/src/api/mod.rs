//! The authz API: one poem-openapi struct per tag, combined in [`Api`].

// Reply enums hold one DTO per variant and are moved into a response once per request.
#![allow(clippy::large_enum_variant)]

mod admin_apps;
mod admin_members;
mod admin_orgs;
mod app_dto;
mod apps;
pub mod common;
mod grants;
mod invitation_mail;
mod invitations;
mod m2m;
mod me_invitations;
mod me_orgs;
mod oauth;
mod oauth_grant;
mod org_dto;
pub mod org_gate;
mod org_ops;
mod org_replies;
mod org_roles;
mod org_roles_write;
mod orgs;
mod permissions;
mod role_dto;
mod roles;

pub use admin_apps::AdminAppsApi;
pub use admin_members::AdminMembersApi;
pub use admin_orgs::AdminOrgsApi;
pub use apps::AppsApi;
pub use grants::{GrantsApi, MeAppsApi};
pub use invitations::OrgInvitationsApi;
pub use m2m::M2MApi;
pub use me_invitations::MeInvitationsApi;
pub use me_orgs::MeOrgsApi;
pub use oauth::OAuthApi;
pub use org_roles::OrgRolesApi;
pub use orgs::OrgsApi;
pub use permissions::PermissionsApi;
pub use roles::RolesApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Apps and their policies.
    Apps,
    /// App administration and user app grants.
    AdminApps,
    /// The caller's own apps, organisations and invitations.
    Me,
    /// Roles, user base roles and the permission registry.
    Roles,
    /// Organisation administration (platform admins).
    Organizations,
    /// Org self-service under `/orgs/{orgId}`: the organisation, members, custom roles
    /// and invitations (org-permission gate).
    Orgs,
    /// Machine-to-machine clients.
    M2m,
    /// The OAuth 2.0 token endpoint (client_credentials).
    #[oai(rename = "OAuth")]
    OAuth,
}

/// Apps, roles, the permission registry, m2m and `/oauth/token`.
pub type PlatformApis = (
    AppsApi,
    AdminAppsApi,
    GrantsApi,
    MeAppsApi,
    RolesApi,
    PermissionsApi,
    M2MApi,
    OAuthApi,
);

/// Organisations, members, custom roles, invitations.
pub type OrgApis = (
    AdminOrgsApi,
    AdminMembersApi,
    OrgsApi,
    OrgRolesApi,
    OrgInvitationsApi,
    MeOrgsApi,
    MeInvitationsApi,
);

/// Every API struct of the authz service.
pub type Api = (PlatformApis, OrgApis);

/// The authz API value (its structs share one [`crate::state::Shared`]).
pub fn api() -> Api {
    let shared = crate::state::Shared::default();
    (
        (
            AppsApi,
            AdminAppsApi,
            GrantsApi,
            MeAppsApi,
            RolesApi,
            PermissionsApi,
            M2MApi {
                shared: shared.clone(),
            },
            OAuthApi {
                shared: shared.clone(),
            },
        ),
        (
            AdminOrgsApi,
            AdminMembersApi,
            OrgsApi,
            OrgRolesApi,
            OrgInvitationsApi { shared },
            MeOrgsApi,
            MeInvitationsApi,
        ),
    )
}
