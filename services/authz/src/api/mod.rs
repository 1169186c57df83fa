//! The authz API: one poem-openapi struct per tag, combined in [`Api`].

mod apps;

pub use apps::AppsApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Apps and their policies.
    Apps,
}

/// Every API struct of the authz service.
pub type Api = AppsApi;

/// The authz API value.
pub fn api() -> Api {
    AppsApi
}
