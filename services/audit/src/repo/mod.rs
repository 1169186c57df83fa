//! Repositories: SQL as plain async functions, one module per concern.

pub mod audit_log;
pub mod chain;
pub mod insert;
