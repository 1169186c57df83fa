//! Repositories: SQL as plain async functions, one module per aggregate.

pub mod apps;
pub mod m2m;
pub mod permissions;
pub mod roles;
pub mod users;
