//! The audit service: consumes audit events from NATS into Postgres, keeps them in a
//! tamper-evident hash chain, and serves `GET /admin/audit-log` (ARCHITECTURE §2, §4) with its
//! `verify` and `export` companions.
//!
//! # Layout
//! - `api/`: one poem-openapi struct per operation group, combined in [`api::Api`].
//! - `consumer/`: [`AuditConsumer`], the durable JetStream pull consumer.
//! - `retention.rs`: the job that enforces `AUDIT_RETENTION`.
//! - `domain/`: the stored form of an event (`record`), the hash chain and its verifier (`chain`).
//! - `repo/`: SQL, one module per concern.

pub mod api;
pub mod consumer;
pub mod domain;
pub mod repo;
pub mod retention;

pub use consumer::{AuditConsumer, ConsumerConfig, ConsumerStats};

use auth_host::Platform;
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

/// Starts the audit service's background tasks on `platform`: the consumer and the retention
/// job. Both stop on `platform.shutdown`. Call it once per process (the audit binary and the
/// all-in-one server do).
pub fn start_background(platform: &Platform) {
    AuditConsumer::new(platform.db.clone(), platform.bus.clone()).start(platform.shutdown.clone());
    retention::spawn(
        platform.db.clone(),
        retention::RetentionConfig::new(platform.settings.audit.retention),
        platform.shutdown.clone(),
    );
}
