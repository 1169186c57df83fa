//! The AWS Cognito lazy-migration bridge (contract §7.5, SECURITY B.13), off unless
//! `COGNITO_AUTO_MIGRATE_ENABLED=true`.
//!
//! A password login for an email the platform does not know asks Cognito to check the
//! password (`InitiateAuth`, `USER_PASSWORD_AUTH`); when Cognito accepts it, the user is
//! created here with a bcrypt hash of that password, the Cognito `sub` kept as legacy id,
//! groups mapped to roles, `user.migrated_from_legacy` audited in the same transaction, and
//! the login goes on as any other (§5.1 steps 4-11). From then on the user logs in locally:
//! Cognito is never asked again (MIG-01). A known user whose wrong local password Cognito
//! accepts gets 409 `LEGACY_MIGRATION_CONFLICT`.
//!
//! Layout:
//! - `client.rs`: [`CognitoClient`], the two unsigned user-pool calls over reqwest.
//! - `profile.rs`: pure rules (groups → roles, the groups claim, names).
//! - `migrate.rs`: [`migrate_unknown`] and [`check_conflict`], the two hooks of the login.

pub mod client;
mod migrate;
pub mod profile;

pub use client::{AuthResult, CognitoClient, CognitoError, LegacyUser};
pub use migrate::{Migrated, check_conflict, migrate_unknown};
