//! Invitation secrets (contract §2.9, §3.4): the 6-character code people type and the
//! 64-character token sent in links, both from the operating system's CSPRNG.

use rand::Rng;
use rand::distr::Alphanumeric;

/// Characters of an invitation code: `A–Z` and `2–9` without `I`, `O`, `0`, `1`.
pub const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Length of an invitation code.
pub const CODE_LEN: usize = 6;
/// Length of an invitation token.
pub const TOKEN_LEN: usize = 64;

/// A fresh invitation code (uniform over [`CODE_ALPHABET`]: 32 divides 256 exactly, so no
/// modulo bias).
#[must_use]
pub fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| {
            let i = rng.random_range(0..CODE_ALPHABET.len());
            char::from(CODE_ALPHABET[i])
        })
        .collect()
}

/// A fresh invitation token: 64 characters of `[A-Za-z0-9]` (URL-safe, ~380 bits).
#[must_use]
pub fn new_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(TOKEN_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_only() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let c = new_code();
            assert_eq!(c.len(), CODE_LEN);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
            assert!(!c.contains(['I', 'O', '0', '1']), "{c}");
            seen.extend(c.bytes());
        }
        assert_eq!(seen.len(), CODE_ALPHABET.len(), "every symbol occurs");
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
