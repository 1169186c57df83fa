//! HMAC-SHA256 keys: precomputed pads, rotation (active then previous), constant-time tag
//! comparison, and the MAC pass that decodes the payload in the shadow of the hash.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// A precomputed HMAC-SHA256 key (the inner/outer pads are hashed once).
#[derive(Clone)]
pub(crate) struct HmacKey(Hmac<Sha256>);

impl HmacKey {
    pub(crate) fn new(secret: &[u8]) -> Self {
        let Ok(mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            unreachable!("HMAC-SHA256 accepts keys of every length")
        };
        Self(mac)
    }

    /// Constant-time check of `tag` over `message`.
    pub(super) fn verify(&self, message: &[u8], tag: &[u8; 32]) -> bool {
        let mut mac = self.0.clone();
        mac.update(message);
        tag_matches(&mac.finalize().into_bytes(), tag)
    }

    /// Like [`HmacKey::verify`] over `message`, decoding its part from `payload_at` on into
    /// `out` along the way. Returns (tag matches, payload decoded).
    ///
    /// The SHA-256 rounds of a block are one long dependency chain; decoding 64 payload
    /// characters after each block lets the CPU run the decoding in the chain's shadow
    /// instead of after the whole hash. Blocks are fed aligned, so none is copied first.
    fn verify_decoding(
        &self,
        message: &[u8],
        payload_at: usize,
        out: &mut [u8],
        tag: &[u8; 32],
    ) -> (bool, bool) {
        let mut mac = self.0.clone();
        let payload = message.get(payload_at..).unwrap_or_default();
        let mut blocks = message.chunks_exact(64);
        let mut pieces = payload.chunks_exact(64);
        // An `out` of the wrong length (an impossible payload length) is never written.
        let sized = crate::b64::decoded_len(payload) == Some(out.len());
        let mut dst = out.chunks_exact_mut(48);
        let mut decoded = sized;
        for block in &mut blocks {
            mac.update(block);
            if let (true, Some(piece), Some(d)) = (sized, pieces.next(), dst.next()) {
                decoded &= match (<&[u8; 64]>::try_from(piece), <&mut [u8; 48]>::try_from(d)) {
                    (Ok(piece), Ok(d)) => crate::b64::decode_piece(piece, d),
                    _ => false,
                };
            }
        }
        mac.update(blocks.remainder());
        if sized {
            // A payload has fewer full pieces than the message has blocks: all were decoded.
            decoded &= pieces.next().is_none()
                && crate::b64::decode_to(pieces.remainder(), dst.into_remainder()).is_some();
        }
        (tag_matches(&mac.finalize().into_bytes(), tag), decoded)
    }
}

/// Compares two MACs in constant time: the word differences are OR-ed, then one
/// constant-time comparison with zero.
fn tag_matches(mac: &[u8], tag: &[u8; 32]) -> bool {
    let mut diff = 0u64;
    for (m, t) in mac.chunks_exact(8).zip(tag.chunks_exact(8)) {
        let (Ok(m), Ok(t)) = (<[u8; 8]>::try_from(m), <[u8; 8]>::try_from(t)) else {
            return false;
        };
        diff |= u64::from_le_bytes(m) ^ u64::from_le_bytes(t);
    }
    mac.len() == tag.len() && bool::from(diff.ct_eq(&0))
}

/// The active key and, during a rotation window, the previous one.
#[derive(Clone)]
pub(crate) struct KeyRing {
    pub(crate) active: HmacKey,
    pub(crate) previous: Option<HmacKey>,
}

impl KeyRing {
    pub(crate) fn new(active: &[u8], previous: Option<&[u8]>) -> Self {
        Self {
            active: HmacKey::new(active),
            previous: previous.map(HmacKey::new),
        }
    }

    /// Checks `tag` over `message` while decoding the payload (from `payload_at`) into
    /// `out`. The previous key is tried only when the active one does not match (§5.7).
    /// Returns (tag matches, payload decoded).
    pub(super) fn verify_decoding(
        &self,
        message: &[u8],
        payload_at: usize,
        out: &mut [u8],
        tag: &[u8; 32],
    ) -> (bool, bool) {
        let (matched, decoded) = self.active.verify_decoding(message, payload_at, out, tag);
        let matched = matched
            || self
                .previous
                .as_ref()
                .is_some_and(|p| p.verify(message, tag));
        (matched, decoded)
    }
}
