//! Repositories: SQL as plain async functions, one module per aggregate.

pub mod audit_log;
