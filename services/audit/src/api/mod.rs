//! The audit API: one poem-openapi struct per tag, combined in [`Api`].

mod audit_log;

pub use audit_log::AuditLogApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// The audit trail.
    Audit,
}

/// Every API struct of the audit service.
pub type Api = AuditLogApi;

/// The audit API value.
pub fn api() -> Api {
    AuditLogApi
}
