//! SECURITY.md B.1: JWT-01..JWT-06, JWT-08, JWT-10, JWT-11 against the verifier.

use jwt_verify::{InvalidReason, VerifyError, bearer_token};
use serde_json::json;

use crate::support::*;

fn invalid(reason: InvalidReason) -> Result<jwt_verify::AccessClaims, VerifyError> {
    Err(VerifyError::Invalid(reason))
}

#[tokio::test]
async fn a_typical_token_signed_by_jsonwebtoken_verifies() {
    let (v, _, _) = verifier();
    let token = sign(&access_claims(), ACCESS);
    assert_eq!(v.verify_access(&token).await, Ok(access_claims()));
}

#[test]
fn jwt_01_alg_none_in_any_case_is_refused() {
    let (v, _, _) = verifier();
    let payload = b64(serde_json::to_string(&access_claims()).unwrap().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        for sig in ["", "AAAA"] {
            let token = format!("{header}.{payload}.{sig}");
            assert!(
                matches!(v.decode_access(&token), Err(VerifyError::Invalid(_))),
                "{alg} {sig:?}"
            );
        }
        // With a valid-looking HMAC the header is still refused before anything is read.
        let token = sign_raw(
            &format!(r#"{{"alg":"{alg}"}}"#),
            &serde_json::to_string(&access_claims()).unwrap(),
            ACCESS,
        );
        assert_eq!(v.decode_access(&token), invalid(InvalidReason::Header));
    }
}

#[test]
fn jwt_02_only_hs256_is_accepted() {
    let (v, _, _) = verifier();
    let claims = serde_json::to_string(&access_claims()).unwrap();
    for alg in [
        "HS384", "HS512", "RS256", "ES256", "EdDSA", "hs256", "HS256 ",
    ] {
        let token = sign_raw(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            &claims,
            ACCESS,
        );
        assert_eq!(
            v.decode_access(&token),
            invalid(InvalidReason::Header),
            "{alg}"
        );
    }
    // Genuine HS384/HS512 tokens made with our key by jsonwebtoken.
    for alg in [
        jsonwebtoken::Algorithm::HS384,
        jsonwebtoken::Algorithm::HS512,
    ] {
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &access_claims(),
            &jsonwebtoken::EncodingKey::from_secret(ACCESS).unwrap(),
        )
        .unwrap();
        assert!(
            matches!(v.decode_access(&token), Err(VerifyError::Invalid(_))),
            "{alg:?}"
        );
    }
}

#[test]
fn jwt_03_tampered_signatures_and_payloads_are_refused() {
    let (v, _, _) = verifier();
    let token = sign(&access_claims(), ACCESS);
    let (message, sig) = token.rsplit_once('.').unwrap();
    // One bit flipped in the signature (the first char keeps the canonical encoding).
    let mut sig_bytes = sig.as_bytes().to_vec();
    sig_bytes[0] = if sig_bytes[0] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{message}.{}", String::from_utf8(sig_bytes).unwrap());
    assert_eq!(v.decode_access(&flipped), invalid(InvalidReason::Signature));
    assert_eq!(
        v.decode_access(&format!("{message}.{}", &sig[..20])),
        invalid(InvalidReason::Malformed)
    );
    assert_eq!(
        v.decode_access(&format!("{message}.")),
        invalid(InvalidReason::Malformed)
    );
    // Payload edited (admin role added), original signature kept.
    let mut edited = access_json();
    edited.insert("roles".into(), json!(["system_admin"]));
    let (header, _) = message.split_once('.').unwrap();
    let forged = format!(
        "{header}.{}.{sig}",
        b64(serde_json::Value::Object(edited).to_string().as_bytes())
    );
    assert_eq!(v.decode_access(&forged), invalid(InvalidReason::Signature));
    // Signed with another key.
    assert_eq!(
        v.decode_access(&sign(&access_claims(), REFRESH)),
        invalid(InvalidReason::Signature)
    );
}

#[test]
fn jwt_04_expiry_leeway_and_not_before() {
    let (v, _, clock) = verifier();
    let mut c = access_claims();
    c.exp = NOW - 30; // exactly at the 30 s leeway: still accepted
    assert!(v.decode_access(&sign(&c, ACCESS)).is_ok());
    c.exp = NOW - 31; // 1 s past the leeway
    assert_eq!(
        v.decode_access(&sign(&c, ACCESS)),
        Err(VerifyError::Expired)
    );
    // The clock moving past expiry turns a good token into an expired one.
    let token = sign(&access_claims(), ACCESS);
    clock.advance_secs(900 + 31);
    assert_eq!(v.decode_access(&token), Err(VerifyError::Expired));
    clock.set_ms(NOW * 1000);

    let mut m = access_json();
    m.remove("exp");
    assert_eq!(
        v.decode_access(&sign_json(&m)),
        invalid(InvalidReason::Claims)
    );

    let mut c = access_claims();
    c.nbf = NOW + 3600;
    assert_eq!(
        v.decode_access(&sign(&c, ACCESS)),
        invalid(InvalidReason::NotYetValid)
    );
    c.nbf = NOW + 30; // within leeway
    assert!(v.decode_access(&sign(&c, ACCESS)).is_ok());
}

#[test]
fn jwt_05_issuer_and_audience_must_match() {
    let (v, _, _) = verifier();
    let mut c = access_claims();
    c.iss = "evil-auth".into();
    assert_eq!(
        v.decode_access(&sign(&c, ACCESS)),
        invalid(InvalidReason::Issuer)
    );
    let mut c = access_claims();
    c.aud = vec!["authz-service".into()];
    assert_eq!(
        v.decode_access(&sign(&c, ACCESS)),
        invalid(InvalidReason::Audience)
    );
    c.aud = vec![];
    assert_eq!(
        v.decode_access(&sign(&c, ACCESS)),
        invalid(InvalidReason::Audience)
    );
    let mut m = access_json();
    m.remove("aud");
    assert_eq!(
        v.decode_access(&sign_json(&m)),
        invalid(InvalidReason::Claims)
    );
    // Several audiences, ours among them: accepted; a bare string is accepted too (RFC 7519).
    let mut c = access_claims();
    c.aud = vec!["other".into(), AUD.into()];
    assert!(v.decode_access(&sign(&c, ACCESS)).is_ok());
    let mut m = access_json();
    m.insert("aud".into(), json!(AUD));
    assert!(v.decode_access(&sign_json(&m)).is_ok());
    m.insert("aud".into(), json!("ven-platform-evil"));
    assert_eq!(
        v.decode_access(&sign_json(&m)),
        invalid(InvalidReason::Audience)
    );
}

/// Regression test for CVE-2026-25537 / GHSA-h395-gr6q-cpjc (claims of the wrong type
/// treated as absent).
#[test]
fn jwt_06_wrongly_typed_time_claims_are_refused() {
    let (v, _, _) = verifier();
    let cases = [
        ("exp", json!("never")),
        ("exp", json!("1900000000")),
        ("nbf", json!("99999999999")),
        ("exp", json!(true)),
        ("exp", json!(null)),
        ("exp", json!(1.9e9)),
        ("nbf", json!([1])),
    ];
    for (claim, value) in cases {
        let mut m = access_json();
        m.insert(claim.into(), value.clone());
        assert_eq!(
            v.decode_access(&sign_json(&m)),
            invalid(InvalidReason::Claims),
            "{claim}={value}"
        );
    }
    // 1e400 cannot be built as a serde_json value: write it by hand.
    let raw = serde_json::Value::Object(access_json())
        .to_string()
        .replace(&format!("\"exp\":{}", NOW + 900), "\"exp\":1e400");
    assert!(raw.contains("1e400"));
    assert_eq!(
        v.decode_access(&sign_raw(HS256_HEADER, &raw, ACCESS)),
        invalid(InvalidReason::Claims)
    );
    let mut m = access_json();
    m.insert("exp".into(), json!(-1));
    assert_eq!(v.decode_access(&sign_json(&m)), Err(VerifyError::Expired));

    // The pinned jsonwebtoken (used by the issuing side) refuses a string `nbf` too.
    let mut m = access_json();
    m.insert("nbf".into(), json!("99999999999"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[AUD]);
    validation.validate_nbf = true;
    let decoded = jsonwebtoken::decode::<serde_json::Value>(
        sign_json(&m),
        &jsonwebtoken::DecodingKey::from_secret(ACCESS).unwrap(),
        &validation,
    );
    assert!(decoded.is_err(), "jsonwebtoken must be >= 10.3");
}

#[tokio::test]
async fn jwt_08_key_selection_headers_are_refused_without_any_network() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let accept = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let (v, _, _) = verifier();
    let claims = serde_json::to_string(&access_claims()).unwrap();
    let url = format!("http://{addr}/jwks.json");
    let headers = [
        format!(r#"{{"alg":"HS256","jku":"{url}"}}"#),
        format!(r#"{{"alg":"HS256","x5u":"{url}"}}"#),
        format!(
            r#"{{"alg":"HS256","jwk":{{"kty":"oct","k":"{}"}}}}"#,
            b64(ACCESS)
        ),
        r#"{"alg":"HS256","kid":"../../etc/passwd"}"#.to_owned(),
        r#"{"alg":"HS256","kid":"' OR 1=1--"}"#.to_owned(),
        r#"{"alg":"HS256","kid":"unknown"}"#.to_owned(),
        r#"{"alg":"HS256","x5c":["MIIB"]}"#.to_owned(),
        r#"{"alg":"HS256","crit":["exp"]}"#.to_owned(),
    ];
    for h in &headers {
        let token = sign_raw(h, &claims, ACCESS);
        assert_eq!(
            v.verify_access(&token).await,
            invalid(InvalidReason::Header),
            "{h}"
        );
    }
    tokio::task::yield_now().await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    accept.abort();
}

#[test]
fn jwt_10_malformed_authorization_headers() {
    let (v, _, _) = verifier();
    let good = sign(&access_claims(), ACCESS);
    assert_eq!(bearer_token(None), Err(VerifyError::Missing));
    assert_eq!(bearer_token(Some(b"")), Err(VerifyError::Missing));
    for ok in [
        format!("Bearer {good}"),
        format!("bearer {good}"),
        format!("BEARER {good}"),
    ] {
        assert_eq!(bearer_token(Some(ok.as_bytes())), Ok(good.as_str()));
    }
    let one_mib = format!("Bearer {}", "a".repeat(1 << 20));
    let bad: Vec<Vec<u8>> = vec![
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"Bearer  x".to_vec(),
        format!("Bearer  {good}").into_bytes(),
        format!("Bearer {good} ").into_bytes(),
        format!("Basic {good}").into_bytes(),
        format!("Bearer{good}").into_bytes(),
        b"Bearer a.b!.c".to_vec(),
        b"Bearer a.b=.c".to_vec(),
        b"Bearer \xff\xfe.\xc3\x28.x".to_vec(),
        one_mib.into_bytes(),
    ];
    for h in &bad {
        assert!(
            matches!(bearer_token(Some(h)), Err(VerifyError::Invalid(_))),
            "{:?}",
            String::from_utf8_lossy(&h[..h.len().min(40)])
        );
    }
    // Parsed fine, refused by the verifier: wrong segment counts, bad base64, huge tokens.
    let (h, rest) = good.split_once('.').unwrap();
    for t in [
        h.to_owned(),
        format!("{h}.{}", rest.split_once('.').unwrap().0),
        format!("{good}.x"),
        "a.b.c".into(),
        "..".into(),
        "x".repeat(9000),
    ] {
        assert_eq!(
            v.decode_access(&t),
            invalid(InvalidReason::Malformed),
            "{}",
            &t[..t.len().min(40)]
        );
    }
    // JSON nested 10 000 deep, correctly signed: refused, no stack overflow.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let too_long = sign_raw(HS256_HEADER, &deep, ACCESS);
    assert_eq!(
        v.decode_access(&too_long),
        invalid(InvalidReason::Malformed),
        "over 8 KiB"
    );
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(3000), "]".repeat(3000));
    assert_eq!(
        v.decode_access(&sign_raw(HS256_HEADER, &deep, ACCESS)),
        invalid(InvalidReason::Claims)
    );
}

#[test]
fn jwt_11_duplicate_keys_are_refused() {
    let (v, _, _) = verifier();
    let base = serde_json::Value::Object(access_json()).to_string();
    let body = base.trim_end_matches('}');
    for extra in [
        r#","sub":"admin""#,
        r#","ver":1,"ver":2"#,
        r#","roles":["system_admin"]"#,
        r#","s\u0075b":"admin""#,
    ] {
        let payload = format!("{body}{extra}}}");
        assert_eq!(
            v.decode_access(&sign_raw(HS256_HEADER, &payload, ACCESS)),
            invalid(InvalidReason::Claims),
            "{extra}"
        );
    }
    let header = r#"{"alg":"HS256","alg":"none"}"#;
    assert_eq!(
        v.decode_access(&sign_raw(header, &base, ACCESS)),
        invalid(InvalidReason::Header)
    );
}
