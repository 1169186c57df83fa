//! TOTP (RFC 6238, contract §5.8): SHA-1, 6 digits, 30 s steps, ±1 step, issuer `Vendidit`.
//! The caller stores the last accepted step and takes a code only for a later step.

use totp_rs::{Builder, Secret};

/// Issuer label of provisioning URIs.
pub const ISSUER: &str = "Vendidit";
/// Step length in seconds.
pub const STEP_SECS: u64 = 30;
/// Secret length: 160 bits (RFC 4226 §4 R6).
pub const SECRET_BYTES: usize = 20;

/// Base32 of fresh random secret bytes.
#[must_use]
pub fn encode_secret(bytes: &[u8]) -> String {
    Secret::from(bytes.to_vec()).to_base32()
}

/// The step at which `code` is valid for `secret_b32` at `now_secs` (±1 step), if any and if
/// later than `last_step`. Comparison is constant time (totp-rs `Token`, MFA-07).
#[must_use]
pub fn accepted_step(
    secret_b32: &str,
    code: &str,
    now_secs: u64,
    last_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bytes = Secret::try_from_base32(secret_b32).ok()?;
    // skew 0: each candidate step below is checked on its own
    let totp = Builder::new()
        .with_secret(bytes.as_ref().to_vec())
        .with_skew(0)
        .build()
        .ok()?;
    let origin = now_secs / STEP_SECS;
    let mut found = None;
    // every candidate is computed, so the time taken does not depend on which one matched
    for step in origin.saturating_sub(1)..=origin.saturating_add(1) {
        if totp.check(code, step * STEP_SECS).is_some() && found.is_none() {
            found = Some(step);
        }
    }
    let step = i64::try_from(found?).ok()?;
    match last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

/// `otpauth://totp/Vendidit:<email>?secret=...&issuer=Vendidit&algorithm=SHA1&digits=6&period=30`.
#[must_use]
pub fn provisioning_uri(secret_b32: &str, email: &str) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{}?secret={secret_b32}&issuer={ISSUER}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        percent_encode(email)
    )
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The code for `secret_b32` at `time_secs` (tests and tools).
#[must_use]
pub fn code_at(secret_b32: &str, time_secs: u64) -> Option<String> {
    let bytes = Secret::try_from_base32(secret_b32).ok()?;
    let totp = Builder::new()
        .with_secret(bytes.as_ref().to_vec())
        .build()
        .ok()?;
    Some(totp.generate(time_secs).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"

    #[test]
    fn mfa_01_rfc6238_vectors_truncated_to_6_digits() {
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(SECRET, t).as_deref(), Some(code), "T={t}");
        }
    }

    #[test]
    fn mfa_02_window_is_plus_minus_one_step() {
        let now = 1_000_000_020_u64;
        let origin = i64::try_from(now / STEP_SECS).unwrap_or_default();
        for (offset, ok) in [
            (-2_i64, false),
            (-1, true),
            (0, true),
            (1, true),
            (2, false),
        ] {
            let t = u64::try_from(i64::try_from(now).unwrap_or_default() + offset * 30)
                .unwrap_or_default();
            let code = code_at(SECRET, t).unwrap_or_default();
            let step = accepted_step(SECRET, &code, now, None);
            assert_eq!(step.is_some(), ok, "offset {offset}");
            if ok {
                assert_eq!(step, Some(origin + offset));
            }
        }
    }

    #[test]
    fn mfa_03_04_a_step_is_taken_once_and_never_an_older_one() {
        let now = 1_000_000_020_u64;
        let origin = i64::try_from(now / STEP_SECS).unwrap_or_default();
        let code = code_at(SECRET, now).unwrap_or_default();
        assert_eq!(
            accepted_step(SECRET, &code, now, Some(origin - 1)),
            Some(origin)
        );
        assert_eq!(accepted_step(SECRET, &code, now, Some(origin)), None);
        assert_eq!(accepted_step(SECRET, &code, now + 30, Some(origin)), None);
        let previous = code_at(SECRET, now - 30).unwrap_or_default();
        assert_eq!(accepted_step(SECRET, &previous, now, Some(origin)), None);
        for junk in ["", "12345", "1234567", "12a456", "' or 1=1", "１２３４５６"] {
            assert_eq!(accepted_step(SECRET, junk, now, None), None, "{junk:?}");
        }
    }

    #[test]
    fn uri_names_issuer_and_account() {
        assert_eq!(
            provisioning_uri("ABC", "a+b@x.io"),
            "otpauth://totp/Vendidit:a%2Bb@x.io?secret=ABC&issuer=Vendidit&algorithm=SHA1&digits=6&period=30"
        );
    }
}
