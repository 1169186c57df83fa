//! The session service: refresh rotation, logout, logout-all, sessions, `/auth/validate`
//! and the cleanup jobs (ARCHITECTURE §2).
//!
//! # Layout
//! - `api/`: one poem-openapi struct per tag, combined in [`api::Api`].

pub mod api;

use poem_openapi::OpenApiService;

/// The service name (log field, `X-Served-By`, OpenAPI document name).
pub const NAME: &str = "session";

/// The session OpenAPI service (mount it at `API_PREFIX`).
pub fn openapi() -> OpenApiService<api::Api, ()> {
    OpenApiService::new(
        api::api(),
        "Auth platform: session",
        env!("CARGO_PKG_VERSION"),
    )
}
