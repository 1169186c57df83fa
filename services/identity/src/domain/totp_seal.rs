//! TOTP seeds encrypted at rest (SECURITY.md MFA-08): XChaCha20-Poly1305 with a key that
//! lives outside the database (`TOTP_ENCRYPTION_KEY`, else one derived from
//! `JWT_ACCESS_SECRET` under a label of its own), bound to the user id as associated data
//! so a sealed seed copied onto another account does not open.
//!
//! Stored form: `v1:` + base64url (no padding) of the 24-byte random nonce followed by the
//! ciphertext and tag. Anything without a version prefix is a legacy plaintext base32 seed
//! (imported from the original server, which stored them in clear): it still opens, and the
//! caller re-seals it ([`Opened::needs_reseal`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// Prefix of the current stored form.
pub const VERSION_PREFIX: &str = "v1:";
/// Label of the key derivation: a key for this use only, even from a shared master.
const KEY_LABEL: &[u8] = b"auth-platform/totp-seed-encryption/v1";
const NONCE_BYTES: usize = 24;

/// Why a stored seed cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// A `v1:` value that no configured key opens (wrong key, or tampered).
    #[error("the stored TOTP seed does not open with any configured key")]
    Undecryptable,
    /// A version this build does not know, or a malformed body.
    #[error("the stored TOTP seed has an unknown format")]
    Malformed,
    /// The operating system's random source failed.
    #[error("no randomness for a nonce")]
    Random,
}

/// A stored seed, opened.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// The base32 seed.
    pub secret_b32: String,
    /// Stored in clear (legacy) or under an older key: store [`TotpSealer::seal`] of it.
    pub needs_reseal: bool,
}

/// Seals and opens TOTP seeds. The first key seals; every key is tried when opening.
#[derive(Clone)]
pub struct TotpSealer {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for TotpSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpSealer")
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// The 256-bit key for `master`: HMAC-SHA256(master, label), so the same master used
/// elsewhere (a JWT secret) never yields the same key bytes as this use.
#[must_use]
pub fn derive_key(master: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(KEY_LABEL);
    mac.finalize().into_bytes().into()
}

impl TotpSealer {
    /// A sealer from master secrets, the sealing one first (each goes through
    /// [`derive_key`]); duplicates are dropped. Needs at least one.
    #[must_use]
    pub fn from_masters<'a>(sealing: &str, older: impl IntoIterator<Item = &'a str>) -> Self {
        let mut keys = vec![derive_key(sealing)];
        for master in older {
            let key = derive_key(master);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Self { keys }
    }

    fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*key))
    }

    /// `v1:` form of `secret_b32` for `user`, under the sealing key and a fresh nonce.
    pub fn seal(&self, user: Uuid, secret_b32: &str) -> Result<String, SealError> {
        let key = self.keys.first().ok_or(SealError::Undecryptable)?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut nonce)
            .map_err(|_| SealError::Random)?;
        let sealed = Self::cipher(key)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret_b32.as_bytes(),
                    aad: user.as_bytes(),
                },
            )
            .map_err(|_| SealError::Malformed)?;
        let mut body = Vec::with_capacity(NONCE_BYTES + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(body)))
    }

    /// Opens a stored value of `user`: a `v1:` value with any key (re-seal wanted unless it
    /// was the sealing key), or a legacy plaintext base32 seed (re-seal wanted).
    pub fn open(&self, user: Uuid, stored: &str) -> Result<Opened, SealError> {
        let Some(body) = stored.strip_prefix(VERSION_PREFIX) else {
            if stored.contains(':') || stored.trim().is_empty() {
                return Err(SealError::Malformed);
            }
            return Ok(Opened {
                secret_b32: stored.trim().to_owned(),
                needs_reseal: true,
            });
        };
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if body.len() <= NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, sealed) = body.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        for (i, key) in self.keys.iter().enumerate() {
            let opened = Self::cipher(key).decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: user.as_bytes(),
                },
            );
            if let Ok(plain) = opened {
                let secret_b32 = String::from_utf8(plain).map_err(|_| SealError::Malformed)?;
                return Ok(Opened {
                    secret_b32,
                    needs_reseal: i != 0,
                });
            }
        }
        Err(SealError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn seals_open_and_bind_to_the_user() {
        let s = TotpSealer::from_masters("master-one-0123456789abcdefghijklmnop", []);
        let user = Uuid::new_v4();
        let sealed = s.seal(user, SEED).expect("seal");
        assert!(sealed.starts_with(VERSION_PREFIX));
        assert!(!sealed.contains(SEED));
        // a fresh nonce each time
        assert_ne!(sealed, s.seal(user, SEED).expect("seal"));
        let opened = s.open(user, &sealed).expect("open");
        assert_eq!(opened.secret_b32, SEED);
        assert!(!opened.needs_reseal);
        // another user's row: does not open
        assert_eq!(
            s.open(Uuid::new_v4(), &sealed),
            Err(SealError::Undecryptable)
        );
        // tampered
        let mut bad = sealed.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).expect("ascii");
        assert_eq!(s.open(user, &bad), Err(SealError::Undecryptable));
        assert_eq!(s.open(user, "v1:!!"), Err(SealError::Malformed));
        assert_eq!(s.open(user, "v9:abc"), Err(SealError::Malformed));
    }

    #[test]
    fn legacy_plaintext_and_older_keys_ask_for_a_reseal() {
        let old = TotpSealer::from_masters("old-master-0123456789abcdefghijklmnop", []);
        let new = TotpSealer::from_masters(
            "new-master-0123456789abcdefghijklmnop",
            ["old-master-0123456789abcdefghijklmnop"],
        );
        let user = Uuid::new_v4();
        let legacy = new.open(user, SEED).expect("legacy");
        assert_eq!(legacy.secret_b32, SEED);
        assert!(legacy.needs_reseal);
        let under_old = old.seal(user, SEED).expect("seal");
        let opened = new.open(user, &under_old).expect("older key");
        assert_eq!(opened.secret_b32, SEED);
        assert!(opened.needs_reseal);
        assert_ne!(
            derive_key("new-master-0123456789abcdefghijklmnop"),
            derive_key("old-master-0123456789abcdefghijklmnop")
        );
    }
}
