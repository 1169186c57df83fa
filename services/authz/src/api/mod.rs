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

pub use admin_apps::AdminAppsApi;
pub use apps::AppsApi;
pub use grants::{GrantsApi, MeAppsApi};
pub use m2m::M2MApi;
pub use oauth::OAuthApi;

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
        M2MApi,
        OAuthApi,
    )
}
