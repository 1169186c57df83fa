//! Secret rotation (contract §5.7): the previous secret only rescues a signature mismatch.

use std::sync::Arc;

use jwt_verify::{
    InvalidReason, NoRevocation, Purpose, Verifier, VerifierConfig, VerifyError, purpose_secret,
};

use crate::support::*;

#[test]
fn previous_secret_is_accepted_during_the_window_only() {
    let (v, _, _) = verifier();
    let old = sign(&access_claims(), PREVIOUS);
    assert_eq!(v.decode_access(&old), Ok(access_claims()));

    let clock = clock();
    let no_window = Verifier::new(
        VerifierConfig::new(ACCESS, ISS, AUD).with_clock(clock),
        Arc::new(NoRevocation),
    )
    .unwrap();
    assert_eq!(
        no_window.decode_access(&old),
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );
}

#[test]
fn claim_failures_are_never_retried_with_the_previous_secret() {
    let (v, _, _) = verifier();
    for secret in [ACCESS, PREVIOUS] {
        let mut c = access_claims();
        c.exp = NOW - 3600;
        assert_eq!(
            v.decode_access(&sign(&c, secret)),
            Err(VerifyError::Expired),
            "expired stays expired"
        );
        let mut c = access_claims();
        c.aud = vec!["elsewhere".into()];
        assert_eq!(
            v.decode_access(&sign(&c, secret)),
            Err(VerifyError::Invalid(InvalidReason::Audience))
        );
        let mut c = access_claims();
        c.iss = "someone-else".into();
        assert_eq!(
            v.decode_access(&sign(&c, secret)),
            Err(VerifyError::Invalid(InvalidReason::Issuer))
        );
    }
}

#[test]
fn refresh_and_purpose_tokens_rotate_too() {
    let (v, _, _) = verifier();
    assert_eq!(
        v.verify_refresh(&sign(&refresh_claims(), PREVIOUS_REFRESH)),
        Ok(refresh_claims())
    );
    assert_eq!(
        v.verify_refresh(&sign(&refresh_claims(), REFRESH)),
        Ok(refresh_claims())
    );
    for p in [Purpose::PasswordReset, Purpose::EmailVerification] {
        let claims = purpose_claims(p);
        for master in [ACCESS, PREVIOUS] {
            let token = sign(&claims, &purpose_secret(master, ISS, p));
            assert_eq!(v.verify_purpose(&token, p), Ok(claims.clone()));
        }
    }
}

#[test]
fn purpose_secret_matches_the_contract_derivation() {
    // HMAC-SHA256(key = access secret, msg = "ven-auth:purpose:password_reset").
    let expected = hs256(b"ven-auth:purpose:password_reset", ACCESS);
    assert_eq!(
        purpose_secret(ACCESS, "ven-auth", Purpose::PasswordReset),
        expected
    );
    let expected = hs256(b"other-iss:purpose:email_verification", ACCESS);
    assert_eq!(
        purpose_secret(ACCESS, "other-iss", Purpose::EmailVerification),
        expected
    );
}
