//! SQL as plain async functions taking a connection (or transaction); runtime queries.

pub mod admin_users;
pub mod import;
pub mod legacy;
pub mod namespaces;
pub mod orgs;
pub mod sso;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod webhooks;
