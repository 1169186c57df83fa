//! Integration tests of `jwt-verify` (one binary). Test names carry SECURITY.md ids.

mod support;

mod cache;
mod config;
mod jwt_cases;
mod props;
mod revocation;
mod rotation;
mod token_types;

#[cfg(feature = "nats")]
mod nats_watcher;
#[cfg(feature = "poem")]
mod poem_auth;
#[cfg(feature = "redis")]
mod redis_source;
