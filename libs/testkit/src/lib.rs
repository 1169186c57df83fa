//! Test fixtures shared by every crate's tests (dev-dependency only): a fresh Postgres
//! database per test, and random prefixes that isolate Redis keys and NATS subjects/buckets.
//!
//! Tests use the real services named by `DATABASE_URL`, `REDIS_URL` and `NATS_URL`; a fixture
//! whose variable is missing panics with a message naming it (never a silent skip).
//!
//! # Layout
//! - [`db`]: [`TestDb`], a database cloned from a migrated template.
//! - [`names`]: [`unique_prefix`] for keys, subjects and buckets.
//! - [`process`]: [`TestEnv`] (database + prefixes) and [`ServiceProcess`], a real binary.
//! - [`ingress`]: [`Ingress`], the real nginx in front of the test's processes.
//! - [`app`]: [`TestApp`], a service running in-process on port 0.
//! - [`tokens`]: [`TestClaims`], access tokens signed with the test secret.
//! - [`smtp`]: [`SmtpSink`], a real SMTP server on loopback (`aiosmtpd`) for mail tests.
//! - [`servers`]: [`PrivateServer`], a test's own Redis or NATS server to stop and restart.

pub mod app;
pub mod db;
pub mod ingress;
pub mod names;
pub mod process;
pub mod servers;
pub mod smtp;
pub mod tokens;

pub use app::TestApp;
pub use db::TestDb;
pub use ingress::Ingress;
pub use names::unique_prefix;
pub use process::{ServiceProcess, TestEnv, binary_path};
pub use servers::PrivateServer;
pub use smtp::{SmtpSink, link_param};
pub use tokens::{TestClaims, sign_json};
