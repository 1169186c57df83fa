//! Derivation of the purpose-token signing secrets (contract §3.4, §5.7).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::claims::Purpose;

/// The HS256 secret of purpose tokens:
/// `HMAC-SHA256(key = master, msg = "<issuer>:purpose:<purpose>")`.
///
/// `master` is `JWT_ACCESS_SECRET` (or its `_PREVIOUS` slot, which yields the parallel key
/// that keeps outstanding links valid across a rotation). With the default issuer the message
/// is, e.g., `ven-auth:purpose:password_reset`. The issuing side signs with the same value.
#[must_use]
pub fn purpose_secret(master: &[u8], issuer: &str, purpose: Purpose) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(master) else {
        unreachable!("HMAC-SHA256 accepts keys of every length")
    };
    mac.update(issuer.as_bytes());
    mac.update(b":purpose:");
    mac.update(purpose.as_str().as_bytes());
    mac.finalize().into_bytes().to_vec()
}
