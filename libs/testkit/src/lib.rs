//! Test fixtures shared by every crate's tests (dev-dependency only): a fresh Postgres
//! database per test, and random prefixes that isolate Redis keys and NATS subjects/buckets.
//!
//! Tests use the real services named by `DATABASE_URL`, `REDIS_URL` and `NATS_URL`; a fixture
//! whose variable is missing panics with a message naming it (never a silent skip).
//!
//! # Layout
//! - [`db`]: [`TestDb`], a database cloned from a migrated template.
//! - [`names`]: [`unique_prefix`] for keys, subjects and buckets.

pub mod db;
pub mod names;

pub use db::TestDb;
pub use names::unique_prefix;
