//! The session API: one poem-openapi struct per tag, combined in [`Api`].
//!
//! - `refresh.rs`: `POST /auth/refresh`.
//! - `logout.rs`: `POST /auth/logout`, `POST /auth/logout/all`.
//! - `validate.rs`: `POST /auth/validate`.
//! - `sessions.rs`: `GET /auth/sessions`, `DELETE /auth/sessions/{sessionId}`.
//! - `admin_sessions.rs`: `/admin/users/{userId}/sessions*`, `.../revoke-sessions`.
//! - `jobs.rs`: `/admin/jobs*`.
//! - `dto.rs`, `gate.rs`: shared reply shapes, role gates and path parsing.

mod admin_sessions;
mod dto;
mod gate;
mod jobs;
mod logout;
mod refresh;
mod sessions;
mod validate;

pub use admin_sessions::AdminSessionsApi;
pub use jobs::JobsApi;
pub use logout::LogoutApi;
pub use refresh::RefreshApi;
pub use sessions::SessionsApi;
pub use validate::ValidateApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Refresh, logout, validation.
    Auth,
    /// The caller's sessions.
    Sessions,
    /// Platform administration of sessions.
    AdminSessions,
    /// Background cleanup jobs.
    AdminJobs,
}

/// Every API struct of the session service.
pub type Api = (
    RefreshApi,
    LogoutApi,
    ValidateApi,
    SessionsApi,
    AdminSessionsApi,
    JobsApi,
);

/// The session API value.
pub fn api() -> Api {
    (
        RefreshApi,
        LogoutApi,
        ValidateApi,
        SessionsApi,
        AdminSessionsApi,
        JobsApi,
    )
}
