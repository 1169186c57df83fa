//! The identity service: who you are. Register, login, passwords, email verification,
//! TOTP 2FA, magic links, `/me/account` and user administration (ARCHITECTURE §2).
//!
//! # Layout
//! - `api/`: one poem-openapi struct per tag, combined in [`api::Api`]; `api/dto.rs` holds
//!   the shared reply shapes (`UserResponse`, `LoginResponse`, ...).
//! - `flows/`: the use cases (login pipeline of §5.1, registration, ...), in step order.
//! - `domain/`: pure rules (email, password policy, TOTP, pools, slugs), unit-tested.
//! - `repo/`: SQL as plain async functions taking a connection.
//! - `hasher.rs`: bcrypt on a bounded blocking pool, with the dummy hash.
//! - `state.rs`: per-application services (hasher, mailer) built on first use.
//! - `error.rs`: internal failures to the contract envelope.
//! - `bootstrap.rs`: the first `system_admin` (`auth-server create-admin`).
//! - `webhooks/`: durable `user.registered` deliveries to app webhooks and their worker.
//!
//! A binary that serves this API should also call [`start_background`] so queued webhook
//! deliveries go out (`main.rs` and the all-in-one server do).

pub mod api;
pub mod bootstrap;
pub mod domain;
pub mod error;
pub mod flows;
pub mod hasher;
pub mod repo;
pub mod state;
pub mod webhooks;

use auth_host::Platform;

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

/// Starts the service's background work (the webhook delivery worker); it stops on
/// `platform.shutdown`.
pub fn start_background(platform: &Platform) {
    // The worker stops on `platform.shutdown`; nothing needs its handle.
    drop(webhooks::start(platform));
}
