//! m2m client secrets: generation (64 random characters) and the stored hash.
//!
//! New secrets are stored as `hmac-sha256$<hex>`: HMAC-SHA256 under a server key derived
//! from `JWT_ACCESS_SECRET` (a secret of 64 random alphanumerics carries ~380 bits, so a
//! fast keyed hash is enough, RFC 6819 §5.1.4.1.3, M2M-08). Hashes imported from the old
//! platform are bcrypt (`$2a$`/`$2b$`/`$2y$`); they are verified once and replaced.

use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Length of a generated client secret.
pub const SECRET_LEN: usize = 64;
/// Prefix of the fast stored hash.
pub const FAST_PREFIX: &str = "hmac-sha256$";
/// Label mixed into the key derivation so the key serves nothing else.
const KEY_LABEL: &[u8] = b"ven-auth:m2m-client-secret";

type HmacSha256 = Hmac<Sha256>;

/// A fresh client secret: 64 characters from `[A-Za-z0-9]` (CSPRNG).
#[must_use]
pub fn generate() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
}

/// The server key for secret hashes, derived from a JWT access secret.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// `HMAC-SHA256(key = jwt_access_secret, msg = label)`.
    #[must_use]
    pub fn derive(jwt_access_secret: &str) -> Self {
        Self(hmac(jwt_access_secret.as_bytes(), KEY_LABEL))
    }

    /// The stored form of `secret`: `hmac-sha256$<hex>`.
    #[must_use]
    pub fn hash(&self, secret: &str) -> String {
        format!(
            "{FAST_PREFIX}{}",
            hex::encode(hmac(&self.0, secret.as_bytes()))
        )
    }

    /// Whether `stored` (a fast hash) matches `secret`, in constant time.
    #[must_use]
    pub fn matches(&self, stored: &str, secret: &str) -> bool {
        let expected = self.hash(secret);
        bool::from(expected.as_bytes().ct_eq(stored.as_bytes()))
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// How a stored hash is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// `hmac-sha256$...` (ours).
    Fast,
    /// `$2a$`/`$2b$`/`$2x$`/`$2y$` bcrypt imported from the old platform.
    Bcrypt,
    /// Anything else: never matches.
    Unknown,
}

/// Classifies a stored hash.
#[must_use]
pub fn kind(stored: &str) -> HashKind {
    if stored.starts_with(FAST_PREFIX) {
        HashKind::Fast
    } else if ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        HashKind::Bcrypt
    } else {
        HashKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_64_alphanumerics_and_distinct() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), SECRET_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn fast_hash_round_trips_and_depends_on_the_key() {
        let key = SecretKey::derive("k1-0123456789abcdef0123456789abcdef");
        let other = SecretKey::derive("k2-0123456789abcdef0123456789abcdef");
        let stored = key.hash("s3cret");
        assert!(stored.starts_with(FAST_PREFIX));
        assert_eq!(kind(&stored), HashKind::Fast);
        assert!(key.matches(&stored, "s3cret"));
        assert!(!key.matches(&stored, "s3creT"));
        assert!(!other.matches(&stored, "s3cret"));
        assert!(!stored.contains("s3cret"));
    }

    #[test]
    fn hash_kinds() {
        assert_eq!(kind("$2b$12$abc"), HashKind::Bcrypt);
        assert_eq!(kind("$2y$10$abc"), HashKind::Bcrypt);
        assert_eq!(kind("plain"), HashKind::Unknown);
        assert_eq!(kind(""), HashKind::Unknown);
    }
}
