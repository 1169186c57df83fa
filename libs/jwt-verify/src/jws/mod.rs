//! Compact JWS handling for the one algorithm we accept: HS256 (JWT-01/02/03/08/10).
//!
//! No claim is read before the signature has been checked, no header parameter can select a
//! key or trigger I/O, and every input (of any length or content) ends in a value or an
//! [`InvalidReason`], never a panic.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::error::InvalidReason;

mod mac;

pub(crate) use mac::KeyRing;

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

/// The header's rules; the two usual encodings are recognised without decoding.
fn check_header(encoded: &[u8]) -> Result<(), InvalidReason> {
    if KNOWN_HEADERS.contains(&encoded) {
        return Ok(());
    }
    check_header_parsed(encoded)
}

/// The header's rules, applied to the decoded and parsed header.
fn check_header_parsed(encoded: &[u8]) -> Result<(), InvalidReason> {
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
    /// Taken out while in use, so the (large) result never passes through the thread-local
    /// accessor, and a nested verification would simply start with an empty one.
    static PAYLOAD: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Checks the token's shape, header and signature, then hands the decoded (still unparsed)
/// payload bytes to `parse`.
pub(crate) fn authenticate<T, E: From<InvalidReason>>(
    token: &[u8],
    keys: &KeyRing,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<T, E> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(InvalidReason::Malformed.into());
    }
    // The first and last dots delimit the segments. A dot inside the payload segment (four
    // or more segments) makes its base64 decoding fail below, so the long middle part is
    // never scanned twice.
    let (Some(d1), Some(d2)) = (
        token.iter().position(|b| *b == b'.'),
        token.iter().rposition(|b| *b == b'.'),
    ) else {
        return Err(InvalidReason::Malformed.into());
    };
    if d1 == d2 {
        return Err(InvalidReason::Malformed.into());
    }
    let header = &token[..d1];
    let payload = &token[d1 + 1..d2];
    let signature = &token[d2 + 1..];
    if header.is_empty() || payload.is_empty() || signature.len() != SIG_B64_LEN {
        return Err(InvalidReason::Malformed.into());
    }
    check_header(header)?;
    let Some(tag) = crate::b64::decode_array::<32>(signature) else {
        return Err(InvalidReason::Malformed.into());
    };
    let mut buf = PAYLOAD.take();
    let result = verify_then_parse(&token[..d2], d1 + 1, &tag, keys, &mut buf, parse);
    PAYLOAD.set(buf);
    result
}

/// The signature check over `signed` (decoding the payload, which starts at `payload_at`,
/// into `buf` meanwhile), then `parse` of the payload, which runs only for a valid tag.
fn verify_then_parse<T, E: From<InvalidReason>>(
    signed: &[u8],
    payload_at: usize,
    tag: &[u8; 32],
    keys: &KeyRing,
    buf: &mut Vec<u8>,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<T, E> {
    let len = signed
        .get(payload_at..)
        .and_then(crate::b64::decoded_len)
        .unwrap_or(0);
    // Every byte is overwritten by the decoding: only growth needs filling.
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let out = buf.get_mut(..len).unwrap_or_default();
    let (matched, decoded) = keys.verify_decoding(signed, payload_at, out, tag);
    if !matched {
        return Err(InvalidReason::Signature.into());
    }
    // An impossible payload length left `out` empty, so the decoding failed.
    if !decoded {
        return Err(InvalidReason::Malformed.into());
    }
    parse(out)
}

#[cfg(test)]
mod tests;
