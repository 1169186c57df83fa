//! The modular-crypt bcrypt string, `$2b$<cost>$<22 salt chars><31 hash chars>`, written and
//! read exactly as the `bcrypt` crate 0.19 writes (`Version::TwoB`) and reads it: 60 ASCII
//! bytes, `$` at 0, 3 and 6, a `2a`/`2b`/`2x`/`2y` prefix (all four hashed alike), a cost of
//! 4..=31, and bcrypt's base64 alphabet without padding or stray trailing bits.

use base64::Engine as _;
use base64::alphabet::BCRYPT;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::NO_PAD;
use subtle::ConstantTimeEq as _;

/// bcrypt's base64 (`./A-Za-z0-9`, no padding).
const BASE64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// The lowest and highest cost the `bcrypt` crate hashes or verifies at.
pub const COSTS: std::ops::RangeInclusive<u32> = 4..=31;

/// A parsed stored hash: what a verification recomputes and compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// The cost (4..=31).
    pub cost: u32,
    /// The 16-byte salt.
    pub salt: [u8; 16],
    /// The stored 23 hash bytes (bcrypt keeps 23 of the 24 it computes).
    pub hash: [u8; 23],
}

/// Why a stored hash is not a bcrypt hash we can check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// Not 60 ASCII bytes with `$` separators and a bcrypt prefix.
    #[error("the hash is not a bcrypt string")]
    Malformed,
    /// The cost field is not a number in 4..=31.
    #[error("the bcrypt cost is not allowed")]
    Cost,
    /// The salt or the hash part is not bcrypt base64.
    #[error("the bcrypt salt or hash is not valid base64")]
    Base64,
}

/// The `$2b$` string for `cost`, `salt` and the raw output (`raw[..23]` is kept).
#[must_use]
pub fn format(cost: u32, salt: &[u8; 16], raw: &[u8; 24]) -> String {
    let mut s = format!("$2b${cost:02}$");
    BASE64.encode_string(salt, &mut s);
    BASE64.encode_string(&raw[..23], &mut s);
    s
}

/// Reads a stored hash, accepting exactly what `bcrypt::verify` accepts.
pub fn parse(stored: &str) -> Result<Parts, FormatError> {
    if stored.len() != 60 || !stored.is_ascii() {
        return Err(FormatError::Malformed);
    }
    let b = stored.as_bytes();
    if b[0] != b'$' || b[3] != b'$' || b[6] != b'$' {
        return Err(FormatError::Malformed);
    }
    if !matches!(&stored[1..3], "2a" | "2b" | "2x" | "2y") {
        return Err(FormatError::Malformed);
    }
    let cost: u32 = stored[4..6].parse().map_err(|_| FormatError::Cost)?;
    if !COSTS.contains(&cost) {
        return Err(FormatError::Cost);
    }
    let (salt_part, hash_part) = stored[7..].split_at(22);
    let mut salt = [0u8; 16];
    let mut hash = [0u8; 23];
    let salt_len = BASE64
        .decode_slice(salt_part, &mut salt)
        .map_err(|_| FormatError::Base64)?;
    let hash_len = BASE64
        .decode_slice(hash_part, &mut hash)
        .map_err(|_| FormatError::Base64)?;
    if salt_len != salt.len() || hash_len != hash.len() {
        return Err(FormatError::Base64);
    }
    Ok(Parts { cost, salt, hash })
}

/// Whether a freshly computed raw output matches the stored hash, in constant time.
#[must_use]
pub fn matches(parts: &Parts, raw: &[u8; 24]) -> bool {
    parts.hash.ct_eq(&raw[..23]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_refuses_what_the_crate_refuses() {
        let raw = [0xa5u8; 24];
        let s = format(12, &[7u8; 16], &raw);
        assert_eq!(s.len(), 60);
        let parts = parse(&s).expect("parse");
        assert_eq!((parts.cost, parts.salt), (12, [7u8; 16]));
        assert!(matches(&parts, &raw));
        let mut other = raw;
        other[22] ^= 1;
        assert!(!matches(&parts, &other));
        // the last byte is not stored: it never decides a match
        other = raw;
        other[23] ^= 1;
        assert!(matches(&parts, &other));
        for prefix in ["$2a$", "$2x$", "$2y$"] {
            assert!(parse(&format!("{prefix}{}", &s[4..])).is_ok(), "{prefix}");
        }
        assert_eq!(
            parse(&format!("$2c${}", &s[4..])),
            Err(FormatError::Malformed)
        );
        assert_eq!(parse(&format!("$2b$03{}", &s[6..])), Err(FormatError::Cost));
        assert_eq!(parse(&format!("$2b$32{}", &s[6..])), Err(FormatError::Cost));
        assert_eq!(parse(&s[..59]), Err(FormatError::Malformed));
        assert_eq!(parse(&format!("{}!", &s[..59])), Err(FormatError::Base64));
    }
}
