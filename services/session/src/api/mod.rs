//! The session API: one poem-openapi struct per tag, combined in [`Api`].

mod validate;

pub use validate::ValidateApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Refresh, logout, validation.
    Auth,
}

/// Every API struct of the session service.
pub type Api = ValidateApi;

/// The session API value.
pub fn api() -> Api {
    ValidateApi
}
