//! The random value behind each stored refresh row (contract §3.3, SES-05, RT-10).
//!
//! The row keeps only `SHA-256(hex(32 random bytes))`: 256 bits from the operating system's
//! CSPRNG, written out as the contract's "random 64-char value" and hashed. The clear value
//! is never stored, logged or returned.

use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::error::RandomError;

/// Random bytes behind one refresh row (256 bits).
const SECRET_BYTES: usize = 32;

/// A fresh `token_hash` for a `refresh_tokens` row: 64 lowercase hex digits.
pub fn new_token_hash() -> Result<String, RandomError> {
    let mut raw = [0_u8; SECRET_BYTES];
    OsRng.try_fill_bytes(&mut raw).map_err(|_| RandomError)?;
    Ok(hash_value(&hex::encode(raw)))
}

/// SHA-256 of `value`, as 64 lowercase hex digits.
#[must_use]
pub fn hash_value(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_64_lowercase_hex_digits() {
        let h = new_token_hash().unwrap_or_default();
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(
            hash_value("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
