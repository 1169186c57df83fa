//! Postgres access shared by every service: pool construction, the embedded migration set,
//! a readiness probe and classification of constraint violations.
//!
//! The schema itself lives in the workspace's `migrations/` directory (one ordered set for the
//! one database): first the original server's schema written idempotently, so a database it
//! created is adopted in place, then our additions (`users.token_version`, `outbox`,
//! `audit_log.event_id`, ...) and the seeded roles and permissions.
//!
//! Queries are runtime-checked (`sqlx::query` / `query_as`), so building needs no database.
//!
//! # Layout
//! - [`config`]: [`DbConfig`], the plain connection settings (no environment reading).
//! - [`pool`]: [`connect`] (lazy, survives a Postgres outage at start), [`ping`].
//! - [`migrate`](mod@migrate): [`MIGRATOR`] and [`migrate()`], safe under concurrent starts.
//! - [`error`]: [`DbError`], [`unique_violation`], [`foreign_key_violation`].

pub mod config;
pub mod error;
pub mod migrate;
pub mod pool;

pub use config::DbConfig;
pub use error::{DbError, foreign_key_violation, unique_violation};
pub use migrate::{MIGRATOR, migrate};
pub use pool::{PING_TIMEOUT, connect, ping, ping_within};
/// The pool type every repository function takes, re-exported for convenience.
pub use sqlx::PgPool;
