//! Verify the auth platform's HS256 tokens: claims types, verifier, revocation.
//!
//! ```no_run
//! # async fn demo(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use jwt_verify::{StaticRevocation, Verifier, VerifierConfig};
//! let verifier = Verifier::new(VerifierConfig::from_env()?, Arc::new(StaticRevocation::new()))?;
//! let claims = verifier.verify_access(token).await?;
//! println!("user {} with roles {:?}", claims.uid, claims.roles);
//! # Ok(()) }
//! ```
//!
//! Layout:
//! - [`claims`]: the access, service, refresh and purpose claim sets (contract §3).
//! - [`purpose`]: derivation of the purpose-token secrets.
//! - [`config`]: [`VerifierConfig`] and its boot checks.
//! - [`verifier`]: [`Verifier`] (signature, type, `iss`/`aud`/`exp`/`nbf`, revocation).
//! - [`authorization`]: the `Authorization: Bearer` header parser.
//! - [`revocation`]: the [`RevocationSource`] trait, in-memory sources, and (features)
//!   the Redis lookup and the NATS key-value watcher.
//! - [`error`]: [`VerifyError`] and its contract codes.
//! - [`clock`]: injectable time.
//! - `poem` (feature `poem`): bearer extractor and poem-openapi security scheme.
//! - `jws` (with `jws::mac`: HMAC keys, rotation, the MAC pass that decodes the payload
//!   between SHA-256 blocks), `b64`, `strict_json`, `cache`, `serde_util`: HS256
//!   compact-JWS handling, strict base64url decoding, duplicate-key-refusing JSON, the
//!   verified-token cache, serde helpers; `fast_claims`: allocation-lean fast path for the
//!   common access-token payload shape (falls back to the full parser).

pub mod authorization;
mod b64;
mod cache;
pub mod claims;
pub mod clock;
pub mod config;
pub mod error;
mod fast_claims;
mod jws;
#[cfg(feature = "poem")]
pub mod poem;
pub mod purpose;
pub mod revocation;
mod serde_util;
mod strict_json;
pub mod verifier;

pub use authorization::bearer_token;
pub use claims::{AccessClaims, Purpose, PurposeClaims, RefreshClaims, ServiceClaims, TokenType};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, VerifierConfig};
pub use error::{InvalidReason, RevocationUnavailable, VerifyError};
pub use jws::MAX_TOKEN_LEN;
pub use purpose::purpose_secret;
pub use revocation::{Fallback, NoRevocation, RevocationSource, StaticRevocation, TokenRef};
pub use verifier::{Principal, Verifier};
