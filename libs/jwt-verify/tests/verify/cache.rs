//! The verified-token cache never widens what is accepted.

use std::sync::Arc;

use jwt_verify::{InvalidReason, NoRevocation, Verifier, VerifyError};

use crate::support::*;

#[tokio::test]
async fn near_copies_of_a_cached_token_are_verified_from_scratch() {
    let (v, rev, clock) = verifier();
    let good = sign(&access_claims(), ACCESS);
    assert!(v.verify_access(&good).await.is_ok()); // now cached
    let (signed, sig) = good.rsplit_once('.').unwrap();

    // Same cache key (first 8 signature chars), different signature tail.
    let mut tail = sig.as_bytes().to_vec();
    tail[20] = if tail[20] == b'A' { b'B' } else { b'A' };
    let forged_sig = format!("{signed}.{}", String::from_utf8(tail).unwrap());
    assert_eq!(
        v.verify_access(&forged_sig).await,
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );

    // Same signature, edited payload.
    let mut m = access_json();
    m.insert("roles".into(), serde_json::json!(["system_admin"]));
    let header = signed.split_once('.').unwrap().0;
    let forged_payload = format!(
        "{header}.{}.{sig}",
        b64(serde_json::Value::Object(m).to_string().as_bytes())
    );
    assert_eq!(
        v.verify_access(&forged_payload).await,
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );

    // The cached token itself still expires and is still revocable.
    rev.set_token_version(USER, 4);
    assert_eq!(v.verify_access(&good).await, Err(VerifyError::Revoked));
    rev.set_token_version(USER, 0);
    clock.advance_secs(900 + 31);
    assert_eq!(v.verify_access(&good).await, Err(VerifyError::Expired));
}

#[tokio::test]
async fn a_disabled_or_tiny_cache_gives_the_same_answers() {
    let clock = clock();
    for capacity in [0, 1, 3] {
        let v = Verifier::new(
            config(&clock).with_cache_capacity(capacity),
            Arc::new(NoRevocation),
        )
        .unwrap();
        let tokens: Vec<String> = (0..20)
            .map(|i| {
                let mut c = access_claims();
                c.jti = format!("jti-{i}");
                sign(&c, ACCESS)
            })
            .collect();
        for _ in 0..2 {
            for t in &tokens {
                assert_eq!(
                    v.verify_access(t).await.map(|c| c.jti.clone()).ok(),
                    serde_json::from_slice::<serde_json::Value>(
                        &base64::Engine::decode(
                            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                            t.split('.').nth(1).unwrap()
                        )
                        .unwrap()
                    )
                    .ok()
                    .and_then(|v| v["jti"].as_str().map(str::to_owned))
                );
            }
        }
    }
}
