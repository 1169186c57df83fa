//! The session service: refresh rotation with reuse detection, logout, logout-all,
//! sessions, `/auth/validate` and the cleanup jobs (ARCHITECTURE §2, contract §2.1, §2.2,
//! §2.11, §5.2, §5.3).
//!
//! # Layout
//! - `api/`: one poem-openapi struct per tag, combined in [`api::Api`].
//! - `flows/`: the use cases in step order (refresh, logout, logout-all, sessions).
//! - `domain/`: pure rules (refresh verdicts, job names), unit-tested.
//! - `repo/`: SQL as plain async functions; the refresh read and the rotation themselves
//!   are `auth_tokens::load_refresh_context` and `auth_tokens::rotate_at_version`.
//! - `jobs/`: the hourly cleanup scheduler and manual triggers.
//! - `error.rs`: [`error::SessionError`] and its contract envelopes.
//!
//! A binary that serves this API should also call [`start_background`] so the cleanup jobs
//! run on schedule (`main.rs` does).

pub mod api;
pub mod domain;
pub mod error;
pub mod flows;
pub mod jobs;
pub mod repo;

use auth_host::Platform;
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

/// Starts the service's background work (the hourly cleanup scheduler); it stops on
/// `platform.shutdown`.
pub fn start_background(platform: &Platform) {
    // The scheduler stops on `platform.shutdown`; nothing needs its handle.
    drop(jobs::start(platform));
}
