//! `auth-bus`: messaging for the auth platform.
//!
//! Events are written to the `outbox` table in the same transaction as the change
//! they describe; an [`OutboxRelay`] in each service publishes them to JetStream
//! (`<prefix>audit.<action>`, `Nats-Msg-Id` = event id) or applies them to the
//! key-value buckets, and marks them sent. A NATS outage or a crash loses nothing
//! and doubles nothing. `users.token_version` stays the source of truth; the
//! `<prefix>token_versions` bucket only ever moves forward.
//!
//! # Layout
//! - [`config`] - [`BusConfig`] and the prefixed stream, subject and bucket names.
//! - [`connection`] - [`Bus`] (background connect, `is_connected`, `ensure_topology`).
//! - [`audit`] - [`AuditAction`] names (contract §7.3) and [`AuditEvent`].
//! - [`outbox`] - `enqueue*` functions taking the caller's transaction.
//! - [`relay`] - [`OutboxRelay`], LISTEN/NOTIFY wake-ups with a polling fallback.
//! - [`kv`] - forward-only token-version puts and `jti` revocation.
//! - [`token_version`] - the bump (Postgres + outbox) and its after-commit publish.
//! - [`error`] - [`BusError`].

pub mod audit;
pub mod config;
pub mod connection;
pub mod error;
pub mod kv;
pub mod outbox;
pub mod relay;
pub mod token_version;

pub use audit::{AuditAction, AuditEvent};
pub use config::BusConfig;
pub use connection::{Bus, Topology};
pub use error::{BusError, Result};
pub use kv::{KvOutcome, put_token_version, revoke_jti};
pub use outbox::{enqueue, enqueue_audit, enqueue_revoke_jti, enqueue_with_id};
pub use relay::{BatchOutcome, OutboxRelay, RelayConfig, RelayStats};
pub use token_version::{
    AfterCommit, TokenVersionBump, TokenVersionMirror, bump_token_version, bump_token_version_in_tx,
};
