use super::*;

fn raw<'a>(ct: Option<&'a str>, body: &'a [u8], auth: &'a [&'a [u8]]) -> RawRequest<'a> {
    RawRequest {
        content_type: ct,
        body,
        query: None,
        authorization: auth,
    }
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

#[test]
fn form_json_and_empty_content_type_parse() {
    let form = b"grant_type=client_credentials&client_id=svc&client_secret=s%2Bx&scope=a+b";
    let r = parse(&raw(FORM, form, &[])).expect("form");
    assert_eq!(r.client_id, "svc");
    assert_eq!(r.client_secret, "s+x");
    assert_eq!(r.scope, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert!(!r.basic);
    let json = br#"{"grant_type":"client_credentials","client_id":"svc","client_secret":"x"}"#;
    for ct in [None, Some(""), Some("application/json; charset=utf-8")] {
        let r = parse(&raw(ct, json, &[])).expect("json");
        assert_eq!(r.client_id, "svc");
        assert_eq!(r.scope, None);
    }
}

#[test]
fn basic_auth_is_decoded_per_rfc6749_2_3_1() {
    let header = format!("Basic {}", STANDARD.encode("my%20svc:p%3Ass+w"));
    let auth = [header.as_bytes()];
    let r = parse(&raw(FORM, b"grant_type=client_credentials", &auth)).expect("basic");
    assert_eq!(r.client_id, "my svc");
    assert_eq!(r.client_secret, "p:ss w");
    assert!(r.basic);
}

#[test]
fn bad_requests() {
    let cases: &[(Option<&str>, &[u8], OAuthErrorCode)] = &[
        (Some("text/plain"), b"x", OAuthErrorCode::InvalidRequest),
        (None, b"", OAuthErrorCode::InvalidRequest),
        (None, b"[]", OAuthErrorCode::InvalidRequest),
        (FORM, b"client_id=a&client_secret=b", OAuthErrorCode::InvalidRequest),
        (
            FORM,
            b"grant_type=password&client_id=a&client_secret=b",
            OAuthErrorCode::UnsupportedGrantType,
        ),
        (
            FORM,
            b"grant_type=client_credentials&grant_type=client_credentials&client_id=a&client_secret=b",
            OAuthErrorCode::InvalidRequest,
        ),
        (
            None,
            br#"{"grant_type":"client_credentials","client_id":"a","client_id":"b","client_secret":"c"}"#,
            OAuthErrorCode::InvalidRequest,
        ),
        (
            None,
            br#"{"grant_type":"client_credentials","client_id":7,"client_secret":"c"}"#,
            OAuthErrorCode::InvalidRequest,
        ),
        (FORM, b"grant_type=client_credentials&client_id=a", OAuthErrorCode::InvalidRequest),
    ];
    for (ct, body, code) in cases {
        let err = parse(&raw(*ct, body, &[])).expect_err("refused");
        assert_eq!(err.code, *code, "{:?}", String::from_utf8_lossy(body));
    }
}

#[test]
fn secret_in_query_or_two_methods_is_invalid_request_m2m_01_m2m_06() {
    let r = RawRequest {
        query: Some("client_secret=x"),
        ..raw(
            FORM,
            b"grant_type=client_credentials&client_id=a&client_secret=b",
            &[],
        )
    };
    assert_eq!(
        parse(&r).map_err(|e| e.code),
        Err(OAuthErrorCode::InvalidRequest)
    );
    let header = format!("Basic {}", STANDARD.encode("a:b"));
    let auth = [header.as_bytes()];
    let both = raw(
        FORM,
        b"grant_type=client_credentials&client_secret=b",
        &auth,
    );
    assert_eq!(
        parse(&both).map_err(|e| e.code),
        Err(OAuthErrorCode::InvalidRequest)
    );
    let bad = [b"Basic !!!".as_slice()];
    let err = parse(&raw(FORM, b"grant_type=client_credentials", &bad)).expect_err("bad");
    assert_eq!(err.code, OAuthErrorCode::InvalidClient);
    assert!(err.basic);
}

#[test]
fn scopes_are_intersected_never_widened_m2m_04() {
    let configured = vec!["a".to_owned(), "b".to_owned()];
    assert_eq!(grant_scopes(None, &configured), configured);
    let req = split_scope("b  zzz b a");
    assert_eq!(grant_scopes(Some(&req), &configured), vec!["b", "a"]);
    assert!(grant_scopes(Some(&split_scope("x")), &configured).is_empty());
}
