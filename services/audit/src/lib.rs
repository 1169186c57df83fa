//! The audit service: consumes audit events from NATS into Postgres and serves
//! `GET /admin/audit-log` (ARCHITECTURE §2, §4).
//!
//! # Layout
//! - `api/`: one poem-openapi struct per tag, combined in [`api::Api`].
//! - `repo/`: SQL, one module per aggregate.

pub mod api;
pub mod repo;

use poem_openapi::OpenApiService;

/// The service name (log field, `X-Served-By`, OpenAPI document name).
pub const NAME: &str = "audit";

/// The audit OpenAPI service (mount it at `API_PREFIX`).
pub fn openapi() -> OpenApiService<api::Api, ()> {
    OpenApiService::new(
        api::api(),
        "Auth platform: audit",
        env!("CARGO_PKG_VERSION"),
    )
}
