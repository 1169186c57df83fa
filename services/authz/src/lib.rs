//! The authz service: apps, organisations, members, invitations, roles, permissions, m2m
//! clients and `POST /oauth/token` (ARCHITECTURE §2).
//!
//! # Layout
//! - `api/`: one poem-openapi struct per tag, combined in [`api::Api`].
//! - `domain/`: pure rules (scopes, client secrets, token-request parsing, org slugs, paging,
//!   invitation codes), unit-tested.
//! - `repo/`: SQL, one module per aggregate.
//! - `state.rs`: per-application services (mailer, client cache, throttle), built on first use.
//! - `clients.rs`: the in-process m2m client cache and its NATS invalidation.
//! - `throttle.rs`: failed client authentications per client id and address (M2M-07).

pub mod api;
pub mod clients;
pub mod domain;
pub mod repo;
pub mod state;
pub mod throttle;

use poem_openapi::OpenApiService;

/// The service name (log field, `X-Served-By`, OpenAPI document name).
pub const NAME: &str = "authz";

/// The authz OpenAPI service (mount it at `API_PREFIX`).
pub fn openapi() -> OpenApiService<api::Api, ()> {
    OpenApiService::new(
        api::api(),
        "Auth platform: authz",
        env!("CARGO_PKG_VERSION"),
    )
}
