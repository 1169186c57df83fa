//! Compact JWS handling for the one algorithm we accept: HS256 (JWT-01/02/03/08/10).
//!
//! No claim is read before the signature has been checked, no header parameter can select a
//! key or trigger I/O, and every input (of any length or content) ends in a value or an
//! [`InvalidReason`], never a panic.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde::de::IgnoredAny;
use sha2::Sha256;

use crate::error::InvalidReason;

/// Longest token accepted, in bytes (bounds memory and work per request; JWT-10).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Longest encoded header accepted.
const MAX_HEADER_LEN: usize = 512;
/// Length of a base64url-encoded HMAC-SHA256 tag without padding.
const SIG_B64_LEN: usize = 43;

/// `{"alg":"HS256","typ":"JWT"}` (Go's jwt library) and `{"typ":"JWT","alg":"HS256"}`
/// (Rust's jsonwebtoken): accepted without parsing.
const KNOWN_HEADERS: [&[u8]; 2] = [
    b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
];

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
    fn verify(&self, message: &[u8], tag: &[u8; 32]) -> bool {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }
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

    /// The previous key is tried only when the active one does not match (§5.7).
    fn verify(&self, message: &[u8], tag: &[u8; 32]) -> bool {
        self.active.verify(message, tag)
            || self
                .previous
                .as_ref()
                .is_some_and(|p| p.verify(message, tag))
    }
}

/// Header parameters we look at. Any key-selection or extension parameter is refused.
#[derive(Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(default)]
    kid: Present,
    #[serde(default)]
    jku: Present,
    #[serde(default)]
    jwk: Present,
    #[serde(default)]
    x5u: Present,
    #[serde(default)]
    x5c: Present,
    #[serde(default)]
    x5t: Present,
    #[serde(default, rename = "x5t#S256")]
    x5t_s256: Present,
    #[serde(default)]
    crit: Present,
    #[serde(default)]
    cty: Present,
    #[serde(default)]
    b64: Present,
    #[serde(default)]
    zip: Present,
    #[serde(default)]
    enc: Present,
}

/// True when the parameter appeared at all (even as `null`).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Self(true))
    }
}

fn check_header(encoded: &[u8]) -> Result<(), InvalidReason> {
    if KNOWN_HEADERS.contains(&encoded) {
        return Ok(());
    }
    if encoded.len() > MAX_HEADER_LEN {
        return Err(InvalidReason::Header);
    }
    let json = crate::b64::decode(encoded).ok_or(InvalidReason::Malformed)?;
    let h: JoseHeader<'_> =
        crate::strict_json::from_slice(&json).map_err(|_| InvalidReason::Header)?;
    let refused = [
        &h.kid,
        &h.jku,
        &h.jwk,
        &h.x5u,
        &h.x5c,
        &h.x5t,
        &h.x5t_s256,
        &h.crit,
        &h.cty,
        &h.b64,
        &h.zip,
        &h.enc,
    ];
    if h.alg != "HS256" || refused.iter().any(|p| p.0) {
        return Err(InvalidReason::Header);
    }
    match h.typ.as_deref() {
        None => Ok(()),
        Some(t)
            if ["JWT", "at+jwt", "application/at+jwt"]
                .iter()
                .any(|ok| t.eq_ignore_ascii_case(ok)) =>
        {
            Ok(())
        }
        Some(_) => Err(InvalidReason::Header),
    }
}

thread_local! {
    /// Reused payload buffer: saves an allocation per verification (at most 6 KiB a thread).
    static PAYLOAD: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks the token's shape, header and signature, then hands the decoded (still unparsed)
/// payload bytes to `parse`.
pub(crate) fn authenticate<R>(
    token: &[u8],
    keys: &KeyRing,
    parse: impl FnOnce(&[u8]) -> R,
) -> Result<R, InvalidReason> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(InvalidReason::Malformed);
    }
    // The first and last dots delimit the segments. A dot inside the payload segment (four
    // or more segments) makes its base64 decoding fail below, so the long middle part is
    // never scanned twice.
    let (Some(d1), Some(d2)) = (
        token.iter().position(|b| *b == b'.'),
        token.iter().rposition(|b| *b == b'.'),
    ) else {
        return Err(InvalidReason::Malformed);
    };
    if d1 == d2 {
        return Err(InvalidReason::Malformed);
    }
    let header = &token[..d1];
    let payload = &token[d1 + 1..d2];
    let signature = &token[d2 + 1..];
    if header.is_empty() || payload.is_empty() || signature.len() != SIG_B64_LEN {
        return Err(InvalidReason::Malformed);
    }
    check_header(header)?;

    let tag: [u8; 32] = crate::b64::decode_array(signature).ok_or(InvalidReason::Malformed)?;
    if !keys.verify(&token[..d2], &tag) {
        return Err(InvalidReason::Signature);
    }
    PAYLOAD.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => {
            crate::b64::decode_into(payload, &mut buf).ok_or(InvalidReason::Malformed)?;
            Ok(parse(&buf))
        }
        // Only reachable if `parse` itself verified a token; stay correct, just allocate.
        Err(_) => crate::b64::decode(payload)
            .map(|p| parse(&p))
            .ok_or(InvalidReason::Malformed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn known_headers_are_what_they_claim() {
        let expected = [
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"typ":"JWT","alg":"HS256"}"#,
        ];
        for (enc, json) in KNOWN_HEADERS.iter().zip(expected) {
            assert_eq!(
                URL_SAFE_NO_PAD.decode(enc).ok().as_deref(),
                Some(json.as_bytes())
            );
        }
    }

    #[test]
    fn header_rules() {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        assert!(check_header(enc(r#"{"alg":"HS256"}"#).as_bytes()).is_ok());
        assert!(check_header(enc(r#"{"alg":"HS256","typ":"at+jwt"}"#).as_bytes()).is_ok());
        for bad in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"HS256","kid":null}"#,
            r#"{"alg":"HS256","jku":"http://127.0.0.1:9/"}"#,
            r#"{"alg":"HS256","alg":"HS256"}"#,
            r#"{"alg":"HS256","typ":"refresh+jwt"}"#,
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"["HS256"]"#,
        ] {
            assert!(check_header(enc(bad).as_bytes()).is_err(), "{bad}");
        }
    }
}
