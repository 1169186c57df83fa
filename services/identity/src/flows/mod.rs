//! The use cases behind the handlers: each runs its rules, repository calls and audit
//! events in the right order and transaction, and returns reply data or an [`ApiError`].
//!
//! [`ApiError`]: auth_edge::ApiError

pub mod account;
pub mod admin;
pub mod cognito;
pub mod common;
pub mod email;
pub mod gate;
pub mod impersonate;
pub mod import;
pub mod login;
pub mod magic_link;
pub mod namespaces;
pub mod password;
pub mod register;
pub mod sso;
pub mod totp;
