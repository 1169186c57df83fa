//! The fast path agrees with the full parser, and defers everything unusual to it.

use super::fast_only as parse_access;
use crate::claims::AccessClaims;
use proptest::prelude::*;

fn full(json: &[u8]) -> Option<AccessClaims> {
    crate::strict_json::from_slice(json).ok()
}

/// Whatever the fast path accepts, the full parser accepts with the same value.
fn agrees(json: &[u8]) -> Result<(), TestCaseError> {
    if let Some(fast) = parse_access(json) {
        prop_assert_eq!(Some(fast), full(json), "{}", String::from_utf8_lossy(json));
    }
    Ok(())
}

const BASE: &str = r#"{"iss":"ven-auth","sub":"u1","aud":["a","b"],"exp":20,"nbf":10,"iat":10,"jti":"j","uid":"u1","email":"e@x","roles":["r"],"permissions":null,"token_type":"access","session_id":"s","auth_provider":"local","tv":3,"remember_me":true,"org_id":"o","app_code":"c"}"#;

#[test]
fn special_bytes_are_spotted_in_every_lane() {
    for lane in 0..8 {
        for b in 0u8..=255 {
            let expect = b == b'"' || b == b'\\' || b < 0x20;
            // Alone, and followed by other special or high bytes (which must not move the
            // lowest hit: the string reader takes its position from it).
            for above in [*b"abcdefgh", *b"\"\0\\\x1f\xff\x80\xa0\x7f"] {
                let mut w = above;
                for (i, x) in w.iter_mut().enumerate().take(lane) {
                    *x = b"zZ09-_~ "[i];
                }
                w[lane] = b;
                let hits = super::special(u64::from_le_bytes(w));
                let first = w.iter().position(|&x| x == b'"' || x == b'\\' || x < 0x20);
                assert_eq!(hits != 0, first.is_some(), "{lane} {b}");
                if let Some(first) = first {
                    assert_eq!(hits.trailing_zeros() / 8, first as u32, "{lane} {b} {w:?}");
                }
                if above == *b"abcdefgh" {
                    assert_eq!(first == Some(lane), expect, "{lane} {b}");
                }
            }
        }
    }
}

#[test]
fn strings_end_at_the_first_special_byte_at_every_offset() {
    // Every length across the 16- and 8-byte steps and the byte loop, ended by a quote
    // (read) or by an escape or control byte (deferred), with more text after it.
    for len in 0..40 {
        for end in [b'"', b'\\', b'\n'] {
            let mut json = vec![b'"'];
            json.extend((0..len).map(|i| b"abcXYZ019 -_:@."[i % 15]));
            json.push(end);
            json.extend_from_slice(br#"tail"x"#);
            let mut c = super::Cursor {
                text: std::str::from_utf8(&json).unwrap_or_default(),
                b: &json,
                i: 0,
            };
            let got = c.str();
            if end == b'"' {
                assert_eq!(got.map(str::len), Some(len), "{len}");
                assert_eq!(c.i, len + 2, "{len}");
            } else {
                assert_eq!(got, None, "{len} {end}");
            }
        }
    }
}

#[test]
fn typical_payloads_take_the_fast_path() {
    let fast = parse_access(BASE.as_bytes());
    assert!(fast.is_some());
    assert_eq!(fast, full(BASE.as_bytes()));
    let spaced = " {\n \"iss\" : \"ven-auth\", \"sub\":\"u\",\"aud\":\"a\",\"exp\":2,\"nbf\":1,\"iat\":1,\"jti\":\"j\",\"uid\":\"u\",\"email\":\"e\",\"roles\":[ ],\"token_type\":\"service\"\t}\r\n";
    assert!(parse_access(spaced.as_bytes()).is_some());
    assert_eq!(parse_access(spaced.as_bytes()), full(spaced.as_bytes()));
    let utf8 = BASE.replace("e@x", "\u{e9}\u{7f}\u{1F600}@x");
    assert!(parse_access(utf8.as_bytes()).is_some());
    assert_eq!(parse_access(utf8.as_bytes()), full(utf8.as_bytes()));
    assert_eq!(parse_access(&[b'{', 0xFF, b'}']), None);
}

#[test]
fn keys_in_any_order_and_spelling_are_found() {
    let reversed = r#"{"app_code":"c","org_id":"o","remember_me":true,"tv":3,"auth_provider":"local","session_id":"s","token_type":"access","permissions":null,"roles":["r"],"email":"e@x","uid":"u1","jti":"j","iat":10,"nbf":10,"exp":20,"aud":["a","b"],"sub":"u1","iss":"ven-auth"}"#.to_owned();
    let spaced_colons = BASE.replace("\":", "\" :").replace(",\"", " , \"");
    let short_tail = BASE
        .replace(r#""app_code":"c"}"#, r#""tv":3}"#)
        .replace(r#","tv":3,"#, ",");
    for json in [reversed, spaced_colons, short_tail] {
        let fast = parse_access(json.as_bytes());
        assert!(fast.is_some(), "{json}");
        assert_eq!(fast, full(json.as_bytes()), "{json}");
    }
    // A field name is matched whole: a longer or shorter key is no field.
    for json in [
        BASE.replace(r#""iss":"#, r#""issx":"#),
        BASE.replace(r#""org_id":"#, r#""org_i":"#),
        BASE.replace(r#""tv":"#, r#""t":"#),
    ] {
        assert_eq!(parse_access(json.as_bytes()), None, "{json}");
    }
}

#[test]
fn anything_unusual_is_left_to_the_full_parser() {
    for bad in [
        BASE.replace(r#""tv":3"#, r#""tv":3,"tv":3"#), // JWT-11, known key
        BASE.replace(r#""tv":3"#, r#""tv":3,"x":1"#),  // unknown key
        BASE.replace(r#""sub":"u1""#, r#""sub":"u\u0031""#),
        BASE.replace(r#""\u0073ub""#, r#""sub""#)
            .replace(r#""iss""#, r#""\u0069ss""#),
        BASE.replace("\"exp\":20", "\"exp\":-20"),
        BASE.replace("\"exp\":20", "\"exp\":020"),
        BASE.replace("\"exp\":20", "\"exp\":20.0"),
        BASE.replace("\"exp\":20", "\"exp\":2e1"),
        BASE.replace("\"exp\":20", "\"exp\":9999999999999999999"),
        BASE.replace("\"tv\":3", "\"tv\":null"),
        BASE.replace(r#""jti":"j""#, r#""jti":null"#),
        BASE.replace(r#"["r"]"#, r#"["r",]"#),
        BASE.replace(r#""e@x""#, "\"a\tb\""),
        BASE.replace(r#""access""#, r#""Access""#),
        BASE.replace(r#""sub":"u1","#, ""),
        format!("{BASE} x"),
        format!("{BASE},"),
        "{}".to_owned(),
        String::new(),
    ] {
        assert_eq!(parse_access(bad.as_bytes()), None, "{bad}");
    }
}

proptest! {
    #[test]
    fn never_disagrees_with_the_full_parser(at in any::<usize>(), byte in any::<u8>(),
                                             cut in any::<bool>()) {
        let mut json = BASE.as_bytes().to_vec();
        let i = at % json.len();
        if cut {
            json.insert(i, byte);
        } else {
            json[i] = byte;
        }
        agrees(&json)?;
    }

    #[test]
    fn never_disagrees_on_spliced_fragments(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(r#""iss":"ven-auth""#), Just(r#""sub":"u""#), Just(r#""aud":"a""#),
                Just(r#""aud":[]"#), Just(r#""exp":5"#), Just(r#""nbf":1"#), Just(r#""iat":0"#),
                Just(r#""jti":"j""#), Just(r#""uid":"u""#), Just(r#""email":"e""#),
                Just(r#""roles":null"#), Just(r#""roles":["a", "b"]"#), Just(r#""tv":0"#),
                Just(r#""token_type":"access""#), Just(r#""remember_me":false"#),
                Just(r#""namespace":"" "#), Just(r#""x":{"y":1}"#), Just(r#""permissions":[1]"#),
            ],
            0..16,
        ),
    ) {
        let json = format!("{{{}}}", parts.join(","));
        agrees(json.as_bytes())?;
    }
}
