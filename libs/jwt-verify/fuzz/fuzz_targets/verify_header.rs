//! Fuzz target: arbitrary bytes through the `Authorization` parser and every verifier entry
//! point (JWT-10). The first byte picks a mode:
//! - even: the rest is an `Authorization` header value;
//! - odd: the rest is a claims payload that the harness signs with the verifier's own key, so
//!   the fuzzer reaches the JSON parser, duplicate-key check and claim validation.
//!
//! Oracles: nothing panics, and in the header mode nothing ever verifies (the fuzzer does not
//! know the key).
#![no_main]

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jwt_verify::{ManualClock, NoRevocation, Purpose, Verifier, VerifierConfig, bearer_token};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRET: &[u8] = b"fuzz-access-secret-0123456789-abcdefghijk";

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let config = VerifierConfig::new(SECRET, "ven-auth", "ven-platform")
            .with_refresh_secrets(b"fuzz-refresh-secret-0123456789-abcdefghij".to_vec(), None)
            .with_clock(Arc::new(ManualClock::new(1_800_000_000_000)));
        Verifier::new(config, Arc::new(NoRevocation)).expect("fuzz config")
    })
}

fn run_all(v: &Verifier, token: &str) -> bool {
    let a = v.decode_access(token).is_ok();
    let s = v.verify_service(token).is_ok();
    let r = v.verify_refresh(token).is_ok();
    let p = v.verify_purpose(token, Purpose::PasswordReset).is_ok();
    a || s || r || p
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let v = verifier();
    if mode % 2 == 0 {
        if let Ok(token) = bearer_token(Some(rest)) {
            assert!(!run_all(v, token), "an unsigned input verified");
        }
        let lossy = String::from_utf8_lossy(rest);
        assert!(!run_all(v, &lossy), "an unsigned input verified");
    } else {
        let header = if mode & 2 == 0 { r#"{"alg":"HS256","typ":"JWT"}"# } else { r#"{"typ":"JWT","alg":"HS256"}"# };
        let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(rest));
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("hmac key");
        mac.update(message.as_bytes());
        let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        let _ = run_all(v, &token);
        let _ = bearer_token(Some(format!("Bearer {token}").as_bytes()));
    }
});
