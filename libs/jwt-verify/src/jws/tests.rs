//! Header checks (fast and full path agree), the MAC pass, error precedence.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[test]
fn known_headers_are_what_they_claim() {
    let expected = [
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"typ":"JWT","alg":"HS256"}"#,
    ];
    for (enc, json) in KNOWN_HEADERS.iter().zip(expected) {
        assert_eq!(
            URL_SAFE_NO_PAD.decode(enc).ok().as_deref(),
            Some(json.as_bytes())
        );
    }
}

#[test]
fn header_rules() {
    let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
    assert!(check_header(enc(r#"{"alg":"HS256"}"#).as_bytes()).is_ok());
    assert!(check_header(enc(r#"{"alg":"HS256","typ":"at+jwt"}"#).as_bytes()).is_ok());
    for bad in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"hs256"}"#,
        r#"{"alg":"HS512"}"#,
        r#"{"alg":"HS256","kid":null}"#,
        r#"{"alg":"HS256","jku":"http://127.0.0.1:9/"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"refresh+jwt"}"#,
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"["HS256"]"#,
    ] {
        assert!(check_header(enc(bad).as_bytes()).is_err(), "{bad}");
    }
}

/// Headers the rules accept, in other spellings than the two known encodings.
const ACCEPTED: [&str; 10] = [
    r#"{"alg":"HS256","typ":"JWT"}"#,
    r#"{"typ":"JWT","alg":"HS256"}"#,
    r#"{"alg":"HS256"}"#,
    r#"{ "alg" : "HS256" , "typ" : "JWT" }"#,
    r#"{"alg":"HS256","typ":"jwt"}"#,
    r#"{"alg":"HS256","typ":"at+jwt"}"#,
    r#"{"typ":"application/at+jwt","alg":"HS256"}"#,
    r#"{"alg":"HS\u0032\u0035\u0036"}"#,
    r#"{"alg":"HS256","typ":null}"#,
    r#"{"alg":"HS256","typ":"JWT"} "#,
];

/// Headers the rules refuse (several differ from a known encoding in one place only).
const REFUSED: [&str; 9] = [
    r#"{"alg":"HS256","typ":"JWS"}"#,
    r#"{"alg":"HS384","typ":"JWT"}"#,
    r#"{"alg":"none","typ":"JWT"}"#,
    r#"{"typ":"JWT","alg":"HS256","kid":"k"}"#,
    r#"{"typ":"JWT","alg":"HS256","alg":"HS256"}"#,
    r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
    r#"{"typ":"JWT"}"#,
    r#"{"alg":"HS256","typ":"JWT","x5t#S256":"x"}"#,
    r#"{"alg":"HS256","typ":"JWT"}x"#,
];

#[test]
fn fast_and_full_header_checks_agree() {
    for known in KNOWN_HEADERS {
        assert_eq!(check_header_parsed(known), Ok(()));
    }
    for json in ACCEPTED {
        let enc = URL_SAFE_NO_PAD.encode(json);
        assert_eq!(check_header(enc.as_bytes()), Ok(()), "{json}");
        assert_eq!(check_header_parsed(enc.as_bytes()), Ok(()), "{json}");
    }
    for json in REFUSED {
        let enc = URL_SAFE_NO_PAD.encode(json);
        let fast = check_header(enc.as_bytes());
        assert!(fast.is_err(), "{json}");
        assert_eq!(fast, check_header_parsed(enc.as_bytes()), "{json}");
    }
    // A known encoding with one character changed or one added is no longer known.
    for known in KNOWN_HEADERS {
        for i in 0..known.len() {
            let mut edited = known.to_vec();
            edited[i] = if edited[i] == b'A' { b'B' } else { b'A' };
            assert_eq!(check_header(&edited), check_header_parsed(&edited));
        }
        let longer = [known, b"A".as_slice()].concat();
        assert_eq!(check_header(&longer), check_header_parsed(&longer));
    }
}

mod mac_pass {
    use super::super::{KeyRing, verify_then_parse};
    use crate::error::InvalidReason;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use proptest::prelude::*;
    use sha2::Sha256;

    const ACTIVE: &[u8] = b"active-secret-0123456789-abcdefghijkl";
    const PREVIOUS: &[u8] = b"previous-secret-0123456789-abcdefghij";
    const OTHER: &[u8] = b"other-secret-0123456789-abcdefghijklm";

    fn mac(key: &[u8], message: &[u8]) -> [u8; 32] {
        let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        m.update(message);
        m.finalize().into_bytes().into()
    }

    /// The obvious order: tag (active, then previous), then decode the whole payload.
    fn reference(
        message: &[u8],
        payload_at: usize,
        tag: &[u8; 32],
    ) -> Result<Vec<u8>, InvalidReason> {
        if mac(ACTIVE, message) != *tag && mac(PREVIOUS, message) != *tag {
            return Err(InvalidReason::Signature);
        }
        URL_SAFE_NO_PAD
            .decode(&message[payload_at..])
            .map_err(|_| InvalidReason::Malformed)
    }

    proptest! {
        /// Hashing and decoding interleaved give what hashing then decoding gives, for
        /// every payload length around the 64-character pieces, bad characters anywhere,
        /// impossible lengths, each key, and a reused buffer of any earlier size.
        #[test]
        fn interleaved_mac_and_decoding_match_the_obvious_order(
            cases in proptest::collection::vec(
                (0usize..40, proptest::collection::vec(any::<u8>(), 1..700),
                 proptest::option::of((any::<usize>(), any::<u8>())), any::<bool>(), 0u8..3),
                1..6,
            ),
        ) {
            let ring = KeyRing::new(ACTIVE, Some(PREVIOUS));
            let mut buf = Vec::new();
            for (head_len, payload, corrupt, cut, signer) in cases {
                let head = "h".repeat(head_len);
                let mut enc = URL_SAFE_NO_PAD.encode(&payload).into_bytes();
                if let Some((at, byte)) = corrupt {
                    let i = at % enc.len();
                    enc[i] = byte;
                }
                if cut && enc.len() % 4 != 1 {
                    enc.truncate(enc.len() - enc.len() % 4 + 1); // ≡ 1 mod 4: impossible
                }
                let message = [head.as_bytes(), b".", &enc].concat();
                let key = [ACTIVE, PREVIOUS, OTHER][usize::from(signer)];
                let tag = mac(key, &message);
                let got = verify_then_parse(&message, head_len + 1, &tag, &ring, &mut buf, |p| {
                    Ok::<_, InvalidReason>(p.to_vec())
                });
                prop_assert_eq!(got, reference(&message, head_len + 1, &tag));
            }
        }
    }
}
