//! Parsing of the `Authorization: Bearer <token>` header (JWT-10, JWT-12).

use crate::error::{InvalidReason, VerifyError};
use crate::jws::MAX_TOKEN_LEN;

/// Extracts the token from an `Authorization` header value.
///
/// The scheme `Bearer` is matched case-insensitively and must be followed by exactly one
/// space and a non-empty token of base64url characters and dots (RFC 6750 `b64token`
/// without padding). No header → [`VerifyError::Missing`]; anything else malformed (other
/// scheme, extra spaces, invalid UTF-8, over 8 KiB) → [`VerifyError::Invalid`]. Never panics.
pub fn bearer_token(header: Option<&[u8]>) -> Result<&str, VerifyError> {
    let Some(value) = header else {
        return Err(VerifyError::Missing);
    };
    if value.iter().all(u8::is_ascii_whitespace) {
        return Err(VerifyError::Missing);
    }
    let malformed = VerifyError::Invalid(InvalidReason::Malformed);
    if value.len() < 8 || value.len() > MAX_TOKEN_LEN + 7 {
        return Err(malformed);
    }
    let (scheme, token) = value.split_at(7);
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return Err(malformed);
    }
    let token_ok = token
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !token_ok {
        return Err(malformed);
    }
    // All bytes are ASCII, so this cannot fail; map the impossible error anyway.
    std::str::from_utf8(token).map_err(|_| malformed)
}
