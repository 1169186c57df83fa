//! The identity service: who you are. Register, login, passwords, email verification,
//! TOTP 2FA, magic links, SSO, `/me/account` and user administration (ARCHITECTURE §2).
//!
//! # Layout
//! - `api/`: one poem-openapi struct per tag, combined in [`api::Api`].
//! - `bootstrap.rs`: the first `system_admin` (`auth-server create-admin`).

pub mod api;
pub mod bootstrap;

use poem_openapi::OpenApiService;

/// The service name (log field, `X-Served-By`, OpenAPI document name).
pub const NAME: &str = "identity";

/// The identity OpenAPI service (mount it at `API_PREFIX`).
pub fn openapi() -> OpenApiService<api::Api, ()> {
    OpenApiService::new(
        api::api(),
        "Auth platform: identity",
        env!("CARGO_PKG_VERSION"),
    )
}
