//! Property tests: arbitrary input never panics and never verifies; claims round-trip.

use jwt_verify::{AccessClaims, Purpose, TokenType, bearer_token};
use proptest::prelude::*;

use crate::support::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9 _:.@-]{1,24}",
        any::<String>()
    ]
}

fn access_strategy() -> impl Strategy<Value = AccessClaims> {
    let base = access_claims();
    (
        (text(), text(), text(), text(), text(), text()),
        (
            prop::collection::vec(text(), 0..6),
            prop::collection::vec(text(), 0..12),
        ),
        (
            any::<bool>(),
            any::<u64>(),
            text(),
            text(),
            text(),
            text(),
            text(),
        ),
        (-900_i64..900, "[a-f0-9-]{1,36}"),
    )
        .prop_map(
            move |(
                (first, last, display, org_id, org_slug, org_name),
                (roles, permissions),
                (remember_me, tv, app_id, app_code, namespace, imp_uid, imp_email),
                (exp_offset, jti),
            )| {
                AccessClaims {
                    first_name: first,
                    last_name: last,
                    display_name: display,
                    org_id,
                    org_slug,
                    org_name,
                    roles,
                    permissions,
                    remember_me,
                    tv,
                    app_id,
                    app_code,
                    namespace,
                    imp_uid,
                    imp_email,
                    exp: NOW + exp_offset.abs() + 1,
                    jti,
                    token_type: TokenType::Access,
                    ..base.clone()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_never_verify(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let (v, _, _) = verifier();
        let _ = bearer_token(Some(&bytes));
        let s = String::from_utf8_lossy(&bytes);
        prop_assert!(v.decode_access(&s).is_err());
        prop_assert!(v.verify_service(&s).is_err());
        prop_assert!(v.verify_refresh(&s).is_err());
        prop_assert!(v.verify_purpose(&s, Purpose::PasswordReset).is_err());
    }

    #[test]
    fn token_shaped_strings_never_verify(h in "[A-Za-z0-9_-]{0,60}", p in "[A-Za-z0-9_-]{0,300}", s in "[A-Za-z0-9_-]{0,50}") {
        let (v, _, _) = verifier();
        let token = format!("{h}.{p}.{s}");
        prop_assert!(v.decode_access(&token).is_err());
        let header = format!("Bearer {token}");
        let parsed = bearer_token(Some(header.as_bytes()));
        prop_assert!(parsed.is_err() || parsed == Ok(token.as_str()));
    }

    #[test]
    fn any_single_character_change_breaks_a_valid_token(pos in any::<prop::sample::Index>(), c in "[A-Za-z0-9_.-]") {
        let (v, _, _) = verifier();
        let token = sign(&access_claims(), ACCESS);
        let i = pos.index(token.len());
        let mut bytes = token.clone().into_bytes();
        bytes[i] = c.as_bytes()[0];
        let changed = String::from_utf8(bytes).unwrap();
        prop_assume!(changed != token);
        prop_assert!(v.decode_access(&changed).is_err(), "accepted a modified token at {}", i);
    }

    #[test]
    fn random_access_claims_round_trip(claims in access_strategy()) {
        let (v, _, _) = verifier();
        let token = sign(&claims, ACCESS);
        prop_assert_eq!(v.decode_access(&token), Ok(claims.clone()));
        let json = serde_json::to_string(&claims).unwrap();
        prop_assert_eq!(serde_json::from_str::<AccessClaims>(&json).unwrap(), claims);
    }
}
