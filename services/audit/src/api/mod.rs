//! The audit API: one poem-openapi struct per operation group, combined in [`Api`].

mod audit_log;
mod chain;
mod export;
mod params;

pub use audit_log::AuditLogApi;
pub use chain::ChainApi;
pub use export::ExportApi;

use poem_openapi::Tags;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// The audit trail.
    Audit,
}

/// Every API struct of the audit service.
pub type Api = (AuditLogApi, ChainApi, ExportApi);

/// The audit API value.
pub fn api() -> Api {
    (AuditLogApi, ChainApi, ExportApi)
}
