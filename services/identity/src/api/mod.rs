//! The identity API: one poem-openapi struct per tag, combined in [`Api`].

mod me;

pub use me::MeApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Registration, login, the caller, passwords, email, 2FA, magic links, SSO.
    Auth,
}

/// Every API struct of the identity service.
pub type Api = MeApi;

/// The identity API value.
pub fn api() -> Api {
    MeApi
}
