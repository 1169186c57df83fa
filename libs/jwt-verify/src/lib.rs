//! Verify the auth platform's HS256 tokens: claims types, verifier, revocation.
//!
//! Layout:
//! - [`claims`]: the access, service, refresh and purpose claim sets (contract §3).
//! - [`purpose`]: derivation of the purpose-token secrets.
//! - `serde_util`: serde helpers for the claim encodings.

pub mod claims;
pub mod purpose;
mod serde_util;

pub use claims::{AccessClaims, Purpose, PurposeClaims, RefreshClaims, ServiceClaims, TokenType};
pub use purpose::purpose_secret;
