//! JWT-07: one kind of token can never pass as another.

use jwt_verify::{InvalidReason, Principal, Purpose, VerifyError, purpose_secret};
use serde_json::json;

use crate::support::*;

fn is_invalid<T: std::fmt::Debug>(r: &Result<T, VerifyError>) -> bool {
    matches!(r, Err(VerifyError::Invalid(_)))
}

#[tokio::test]
async fn jwt_07_refresh_purpose_and_service_tokens_are_not_access_tokens() {
    let (v, _, _) = verifier();
    let refresh = sign(&refresh_claims(), REFRESH);
    assert_eq!(
        v.verify_access(&refresh).await,
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );
    // Even if an operator reused the access secret for refresh tokens, the shape differs.
    let refresh_same_key = sign(&refresh_claims(), ACCESS);
    assert_eq!(
        v.verify_access(&refresh_same_key).await,
        Err(VerifyError::Invalid(InvalidReason::Claims))
    );

    let reset = sign(
        &purpose_claims(Purpose::PasswordReset),
        &purpose_secret(ACCESS, ISS, Purpose::PasswordReset),
    );
    assert_eq!(
        v.verify_access(&reset).await,
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );

    let service = sign(&service_claims(), ACCESS);
    assert!(is_invalid(&v.verify_access(&service).await));
    // A service token that also carries empty user fields (the original's single struct).
    let mut m = serde_json::to_value(service_claims())
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    m.insert("uid".into(), json!(""));
    m.insert("email".into(), json!(""));
    let svc_with_user_fields = sign_json(&m);
    assert_eq!(
        v.verify_access(&svc_with_user_fields).await,
        Err(VerifyError::Invalid(InvalidReason::TokenType))
    );
    assert!(v.verify_service(&svc_with_user_fields).is_ok());

    // An access-shaped token with an unknown token_type.
    let mut m = access_json();
    m.insert("token_type".into(), json!("refresh"));
    assert_eq!(
        v.verify_access(&sign_json(&m)).await,
        Err(VerifyError::Invalid(InvalidReason::Claims))
    );
    m.remove("token_type");
    assert_eq!(
        v.verify_access(&sign_json(&m)).await,
        Err(VerifyError::Invalid(InvalidReason::Claims))
    );

    // A Google-style ID token (RS256 header).
    let google = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","kid":"abc","typ":"JWT"}"#),
        b64(br#"{"iss":"https://accounts.google.com"}"#),
        "x".repeat(342)
    );
    assert!(is_invalid(&v.verify_access(&google).await));
    // An SSO hand-off code / magic-link token is not a JWT at all.
    assert!(is_invalid(
        &v.verify_access("Zm9vYmFyYmF6cXV4LXNzby1oYW5kb2ZmLWNvZGUtNDhjaGFycw")
            .await
    ));
    // A header typ naming another kind is refused.
    let typed = sign_raw(
        r#"{"alg":"HS256","typ":"refresh+jwt"}"#,
        &serde_json::to_string(&access_claims()).unwrap(),
        ACCESS,
    );
    assert_eq!(
        v.verify_access(&typed).await,
        Err(VerifyError::Invalid(InvalidReason::Header))
    );
    let at_jwt = sign_raw(
        r#"{"alg":"HS256","typ":"at+jwt"}"#,
        &serde_json::to_string(&access_claims()).unwrap(),
        ACCESS,
    );
    assert!(v.verify_access(&at_jwt).await.is_ok());
}

#[tokio::test]
async fn jwt_07_access_tokens_are_not_service_refresh_or_purpose_tokens() {
    let (v, _, _) = verifier();
    let access = sign(&access_claims(), ACCESS);
    assert!(is_invalid(&v.verify_service(&access)));
    assert_eq!(
        v.verify_refresh(&access),
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );
    for p in [Purpose::PasswordReset, Purpose::EmailVerification] {
        assert_eq!(
            v.verify_purpose(&access, p),
            Err(VerifyError::Invalid(InvalidReason::Signature))
        );
    }
    // An access-shaped token carrying client_id but token_type access is not a service token.
    let mut m = access_json();
    m.insert("client_id".into(), json!("client-42"));
    assert_eq!(
        v.verify_service(&sign_json(&m)),
        Err(VerifyError::Invalid(InvalidReason::TokenType))
    );
}

#[test]
fn jwt_07_purpose_tokens_do_not_cross_purposes() {
    let (v, _, _) = verifier();
    let reset_key = purpose_secret(ACCESS, ISS, Purpose::PasswordReset);
    let reset = sign(&purpose_claims(Purpose::PasswordReset), &reset_key);
    assert_eq!(
        v.verify_purpose(&reset, Purpose::EmailVerification),
        Err(VerifyError::Invalid(InvalidReason::Signature))
    );
    // Right key and audience, wrong purpose claim.
    let mut c = purpose_claims(Purpose::PasswordReset);
    c.purpose = Purpose::EmailVerification;
    assert_eq!(
        v.verify_purpose(&sign(&c, &reset_key), Purpose::PasswordReset),
        Err(VerifyError::Invalid(InvalidReason::TokenType))
    );
    // Right key and purpose, audience of the other purpose.
    let mut c = purpose_claims(Purpose::PasswordReset);
    c.aud = vec![Purpose::EmailVerification.audience(ISS)];
    assert_eq!(
        v.verify_purpose(&sign(&c, &reset_key), Purpose::PasswordReset),
        Err(VerifyError::Invalid(InvalidReason::Audience))
    );
    // Expired purpose token.
    let mut c = purpose_claims(Purpose::PasswordReset);
    c.exp = NOW - 3600;
    assert_eq!(
        v.verify_purpose(&sign(&c, &reset_key), Purpose::PasswordReset),
        Err(VerifyError::Expired)
    );
}

#[tokio::test]
async fn principal_routes_admit_users_and_services() {
    let (v, rev, _) = verifier();
    let user = v.verify_principal(&sign(&access_claims(), ACCESS)).await;
    assert_eq!(user, Ok(Principal::User(access_claims())));
    let svc = v
        .verify_principal(&sign(&service_claims(), ACCESS))
        .await
        .unwrap();
    assert_eq!(svc.subject(), "client-42");
    assert!(matches!(svc, Principal::Service(_)));
    assert!(is_invalid(
        &v.verify_principal(&sign(&refresh_claims(), REFRESH)).await
    ));
    // Revocation still applies to the user branch.
    rev.set_token_version(USER, 9);
    assert_eq!(
        v.verify_principal(&sign(&access_claims(), ACCESS)).await,
        Err(VerifyError::Revoked)
    );
}

#[test]
fn claims_serialize_exactly_as_the_contract_says() {
    let v = serde_json::to_value(access_claims()).unwrap();
    assert_eq!(v["aud"], json!([AUD]));
    assert_eq!(v["token_type"], "access");
    assert_eq!(v["tv"], 3);
    assert_eq!(v["remember_me"], true);
    assert!(
        v.get("namespace").is_none() && v.get("imp_uid").is_none() && v.get("imp_email").is_none()
    );
    let s = serde_json::to_value(service_claims()).unwrap();
    assert_eq!(s["roles"], json!([]));
    assert_eq!(s["permissions"], json!([]));
    assert!(s.get("tv").is_none() && s.get("uid").is_none());
    let r = serde_json::to_value(refresh_claims()).unwrap();
    assert!(r.get("org_id").is_none() && r.get("remember_me").is_none());
    assert_eq!(r["tid"], "row-1");
    let p = serde_json::to_value(purpose_claims(Purpose::EmailVerification)).unwrap();
    assert_eq!(p["purpose"], "email_verification");
    assert_eq!(p["aud"], json!(["ven-auth:verify"]));
    assert!(p.get("nbf").is_none());
    // Go marshals nil slices as null: read as empty.
    let mut m = access_json();
    m.insert("roles".into(), json!(null));
    m.insert("permissions".into(), json!(null));
    let (verifier, _, _) = verifier();
    let c = verifier.decode_access(&sign_json(&m)).unwrap();
    assert!(c.roles.is_empty() && c.permissions.is_empty());
}
