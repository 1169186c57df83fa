//! The authz API: one poem-openapi struct per tag, combined in [`Api`].

// Reply enums hold one DTO per variant and are moved into a response once per request.
#![allow(clippy::large_enum_variant)]

mod admin_apps;
mod app_dto;
mod apps;
pub mod common;
mod grants;
mod m2m;
mod oauth;
mod permissions;
mod role_dto;
mod roles;

pub use admin_apps::AdminAppsApi;
pub use apps::AppsApi;
pub use grants::{GrantsApi, MeAppsApi};
pub use m2m::M2MApi;
pub use oauth::OAuthApi;
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
    /// Machine-to-machine clients.
    M2m,
    /// The OAuth 2.0 token endpoint (client_credentials).
    #[oai(rename = "OAuth")]
    OAuth,
}

/// Every API struct of the authz service.
pub type Api = (
    AppsApi,
    AdminAppsApi,
    GrantsApi,
    MeAppsApi,
    RolesApi,
    PermissionsApi,
    M2MApi,
    OAuthApi,
);

/// The authz API value.
pub fn api() -> Api {
    (
        AppsApi,
        AdminAppsApi,
        GrantsApi,
        MeAppsApi,
        RolesApi,
        PermissionsApi,
        M2MApi,
        OAuthApi,
    )
}
