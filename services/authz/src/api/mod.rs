//! The authz API: one poem-openapi struct per tag, combined in [`Api`].

// Reply enums hold one DTO per variant and are moved into a response once per request.
#![allow(clippy::large_enum_variant)]

mod apps;
pub mod common;
mod m2m;
mod oauth;

pub use apps::AppsApi;
pub use m2m::M2MApi;
pub use oauth::OAuthApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Apps and their policies.
    Apps,
    /// Machine-to-machine clients.
    M2m,
    /// The OAuth 2.0 token endpoint (client_credentials).
    #[oai(rename = "OAuth")]
    OAuth,
}

/// Every API struct of the authz service.
pub type Api = (AppsApi, M2MApi, OAuthApi);

/// The authz API value.
pub fn api() -> Api {
    (AppsApi, M2MApi, OAuthApi)
}
