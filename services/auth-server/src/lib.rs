//! The all-in-one auth server: the four services' APIs in one process on one port (the
//! drop-in replacement for the original single binary), plus the tooling subcommands that
//! need every service's API: OpenAPI documents, the ingress table and the first admin.
//!
//! # Layout
//! - `documents.rs`: the per-service OpenAPI documents (`openapi` subcommand).
//! - `ingress.rs`: the nginx routing table generated from those documents.
//! - `admin.rs`: `create-admin`.

pub mod admin;
pub mod documents;
pub mod ingress;

use poem_openapi::OpenApiService;

/// Every service's API in one tuple.
pub type AllApis = (
    (identity::api::Api, session::api::Api),
    (authz::api::Api, audit::api::Api),
);

/// The combined OpenAPI service of the all-in-one binary.
pub fn openapi() -> OpenApiService<AllApis, ()> {
    OpenApiService::new(
        (
            (identity::api::api(), session::api::api()),
            (authz::api::api(), audit::api::api()),
        ),
        "Auth platform",
        env!("CARGO_PKG_VERSION"),
    )
}
