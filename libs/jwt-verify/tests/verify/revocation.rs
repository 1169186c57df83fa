//! Token version and jti revocation through the in-memory sources (§5.3, §9.15).

use std::sync::Arc;

use jwt_verify::{Fallback, RevocationSource, StaticRevocation, TokenRef, Verifier, VerifyError};

use crate::support::*;

#[tokio::test]
async fn token_version_behind_the_user_is_revoked() {
    let (v, rev, _) = verifier();
    let token = sign(&access_claims(), ACCESS); // tv = 3
    rev.set_token_version(USER, 3);
    assert!(v.verify_access(&token).await.is_ok());
    rev.set_token_version(USER, 4);
    let err = v.verify_access(&token).await.unwrap_err();
    assert_eq!(
        (err.clone(), err.code(), err.http_status()),
        (VerifyError::Revoked, "TOKEN_REVOKED", 401)
    );
    // A token without `tv` counts as version 0.
    let mut c = access_claims();
    c.tv = 0;
    let v0 = sign(&c, ACCESS);
    assert!(!serde_json::to_string(&c).unwrap().contains("\"tv\""));
    assert_eq!(v.verify_access(&v0).await, Err(VerifyError::Revoked));
    // decode_access deliberately skips revocation.
    assert!(v.decode_access(&token).is_ok());
}

#[tokio::test]
async fn a_revoked_jti_is_revoked_and_others_are_not() {
    let (v, rev, _) = verifier();
    rev.revoke_jti(&access_claims().jti);
    assert_eq!(
        v.verify_access(&sign(&access_claims(), ACCESS)).await,
        Err(VerifyError::Revoked)
    );
    let mut c = access_claims();
    c.jti = "another".into();
    assert!(v.verify_access(&sign(&c, ACCESS)).await.is_ok());
}

#[tokio::test]
async fn ses_02_a_revoked_session_id_revokes_every_token_of_that_session() {
    let (v, rev, _) = verifier();
    let mut c = access_claims();
    c.session_id = "session-1".into();
    let mut sibling = c.clone();
    sibling.jti = "another".into();
    let mut elsewhere = c.clone();
    elsewhere.jti = "third".into();
    elsewhere.session_id = "session-2".into();
    assert!(v.verify_access(&sign(&c, ACCESS)).await.is_ok());
    rev.revoke_jti("session-1");
    for claims in [&c, &sibling] {
        assert_eq!(
            v.verify_access(&sign(claims, ACCESS)).await,
            Err(VerifyError::Revoked)
        );
    }
    assert!(v.verify_access(&sign(&elsewhere, ACCESS)).await.is_ok());
    // the default (two-step) answer agrees with the source's own
    let t = TokenRef {
        user_id: USER,
        jti: "another",
        token_version: 3,
        session_id: "session-1",
    };
    assert_eq!(rev.is_revoked(t).await, Ok(true));
}

#[tokio::test]
async fn unavailable_revocation_fails_closed() {
    let (v, rev, _) = verifier();
    rev.set_unavailable(true);
    let err = v
        .verify_access(&sign(&access_claims(), ACCESS))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::RevocationUnavailable(_)));
    assert_eq!(
        (err.code(), err.http_status()),
        ("SERVICE_UNAVAILABLE", 503)
    );
    // Service tokens are not subject to revocation lookups.
    assert!(v.verify_service(&sign(&service_claims(), ACCESS)).is_ok());
}

#[tokio::test]
async fn verify_access_with_uses_the_given_source() {
    let (v, _, _) = verifier();
    let other = StaticRevocation::new();
    other.set_token_version(USER, 10);
    assert_eq!(
        v.verify_access_with(&sign(&access_claims(), ACCESS), &other)
            .await,
        Err(VerifyError::Revoked)
    );
}

#[tokio::test]
async fn fallback_asks_the_second_source_only_when_the_first_cannot_answer() {
    let primary = Arc::new(StaticRevocation::new());
    let secondary = Arc::new(StaticRevocation::new());
    secondary.set_token_version(USER, 7);
    let both = Fallback::new(primary.clone(), secondary.clone());
    let t = TokenRef {
        user_id: USER,
        jti: "j",
        token_version: 3,
        session_id: "",
    };
    assert_eq!(both.is_revoked(t).await, Ok(false));
    primary.set_unavailable(true);
    assert_eq!(both.is_revoked(t).await, Ok(true));
    assert_eq!(both.token_version(USER).await, Ok(7));
    secondary.set_unavailable(true);
    assert!(both.is_revoked(t).await.is_err());
    assert!(both.is_jti_revoked("j").await.is_err());

    let clock = clock();
    let v = Verifier::new(config(&clock), Arc::new(both)).unwrap();
    assert!(matches!(
        v.verify_access(&sign(&access_claims(), ACCESS)).await,
        Err(VerifyError::RevocationUnavailable(_))
    ));
}

#[test]
fn error_codes_match_the_contract() {
    use jwt_verify::InvalidReason;
    assert_eq!(VerifyError::Missing.code(), "UNAUTHORIZED");
    assert_eq!(
        VerifyError::Missing.public_message(),
        "Missing authorization token"
    );
    assert_eq!(
        VerifyError::Invalid(InvalidReason::Signature).code(),
        "TOKEN_INVALID"
    );
    assert_eq!(VerifyError::Expired.code(), "TOKEN_EXPIRED");
    assert_eq!(VerifyError::Revoked.code(), "TOKEN_REVOKED");
}
