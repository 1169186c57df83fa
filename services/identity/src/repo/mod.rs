//! SQL as plain async functions taking a connection (or transaction); runtime queries.

pub mod apps;
pub mod orgs;
pub mod tokens;
pub mod totp;
pub mod users;
