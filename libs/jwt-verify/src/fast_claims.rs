//! A fast path for parsing the common shape of an access-token payload.
//!
//! [`parse_access`] reads only a strict subset of JSON: one flat object whose keys are all
//! [`AccessClaims`] fields (each at most once), with UTF-8 strings without escapes,
//! non-negative integers of at most 18 digits, `true`/`false`, `null` where the field reads
//! it as empty, and arrays of such strings. Inside that subset it builds exactly the value
//! the serde path ([`crate::strict_json::from_slice`]) would. For anything else — unknown or
//! repeated keys, escapes, non-ASCII, negative or huge numbers, a wrong type, a missing
//! claim — it returns `None` and the caller runs the serde path, which then decides. So
//! the fast path can never accept a payload that the full parser refuses (JWT-11 included).

use crate::claims::{AccessClaims, TokenType};

/// Longest integer accepted here (well inside both `i64` and `u64`).
const MAX_DIGITS: usize = 18;

struct Cursor<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Whether any byte of `x` is `"`, `\\` or below 0x20 (exact: no false "no").
fn special(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_in(x ^ (ONES * 0x22));
    let backslash = zero_in(x ^ (ONES * 0x5C));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control != 0
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A string without escapes (or control characters, which JSON forbids raw).
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.b.get(start..)?;
        let mut j = 0;
        // Eight bytes at a time while none of them is `"`, `\` or a control character.
        while let Some(w) = rest.get(j..j + 8) {
            let x = u64::from_le_bytes(w.try_into().ok()?);
            if special(x) {
                break;
            }
            j += 8;
        }
        loop {
            match rest.get(j)? {
                b'"' => break,
                b'\\' | 0..=0x1F => return None,
                _ => j += 1,
            }
        }
        self.i = start + j + 1;
        self.text.get(start..start + j)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v = 0u64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            v = v.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            self.i += 1;
        }
        let len = self.i - start;
        // JSON allows no leading zero; a longer number is left to the full parser.
        let leading_zero = len > 1 && self.b.get(start) == Some(&b'0');
        (len > 0 && len <= MAX_DIGITS && !leading_zero).then_some(v)
    }

    fn int(&mut self) -> Option<i64> {
        self.uint().and_then(|v| i64::try_from(v).ok())
    }

    fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// `[` strings `]`.
    fn strings(&mut self) -> Option<Vec<String>> {
        self.eat(b'[')?;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(Vec::new());
        }
        // Room for a typical permission list, so it is not regrown element by element.
        let mut out = Vec::with_capacity(16);
        loop {
            out.push(self.string()?);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    /// `null` (empty) or an array of strings, like `serde_util::null_as_empty`.
    fn null_or_strings(&mut self) -> Option<Vec<String>> {
        if self.peek()? == b'n' {
            self.literal(b"null").map(|()| Vec::new())
        } else {
            self.strings()
        }
    }

    /// A string (one audience) or an array of strings, like `serde_util::audience`.
    fn audience(&mut self) -> Option<Vec<String>> {
        if self.peek()? == b'"' {
            self.string().map(|s| vec![s])
        } else {
            self.strings()
        }
    }

    fn token_type(&mut self) -> Option<TokenType> {
        match self.str()? {
            "access" => Some(TokenType::Access),
            "service" => Some(TokenType::Service),
            _ => None,
        }
    }
}

/// Stores `v` into an empty slot; `None` when the key was already seen.
fn put<T>(slot: &mut Option<T>, v: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v?);
    Some(())
}

/// The fields as they are read; `None` = not (yet) present.
#[derive(Default)]
struct Slots {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Vec<String>>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
    uid: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    org_id: Option<String>,
    org_slug: Option<String>,
    org_name: Option<String>,
    roles: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    token_type: Option<TokenType>,
    session_id: Option<String>,
    remember_me: Option<bool>,
    auth_provider: Option<String>,
    tv: Option<u64>,
    app_id: Option<String>,
    app_code: Option<String>,
    namespace: Option<String>,
    imp_uid: Option<String>,
    imp_email: Option<String>,
}

impl Slots {
    fn read(&mut self, key: &str, c: &mut Cursor<'_>) -> Option<()> {
        match key {
            "iss" => put(&mut self.iss, c.string()),
            "sub" => put(&mut self.sub, c.string()),
            "aud" => put(&mut self.aud, c.audience()),
            "exp" => put(&mut self.exp, c.int()),
            "nbf" => put(&mut self.nbf, c.int()),
            "iat" => put(&mut self.iat, c.int()),
            "jti" => put(&mut self.jti, c.string()),
            "uid" => put(&mut self.uid, c.string()),
            "email" => put(&mut self.email, c.string()),
            "first_name" => put(&mut self.first_name, c.string()),
            "last_name" => put(&mut self.last_name, c.string()),
            "display_name" => put(&mut self.display_name, c.string()),
            "org_id" => put(&mut self.org_id, c.string()),
            "org_slug" => put(&mut self.org_slug, c.string()),
            "org_name" => put(&mut self.org_name, c.string()),
            "roles" => put(&mut self.roles, c.null_or_strings()),
            "permissions" => put(&mut self.permissions, c.null_or_strings()),
            "token_type" => put(&mut self.token_type, c.token_type()),
            "session_id" => put(&mut self.session_id, c.string()),
            "remember_me" => put(&mut self.remember_me, c.bool()),
            "auth_provider" => put(&mut self.auth_provider, c.string()),
            "tv" => put(&mut self.tv, c.uint()),
            "app_id" => put(&mut self.app_id, c.string()),
            "app_code" => put(&mut self.app_code, c.string()),
            "namespace" => put(&mut self.namespace, c.string()),
            "imp_uid" => put(&mut self.imp_uid, c.string()),
            "imp_email" => put(&mut self.imp_email, c.string()),
            _ => None,
        }
    }

    fn finish(self) -> Option<AccessClaims> {
        Some(AccessClaims {
            iss: self.iss?,
            sub: self.sub?,
            aud: self.aud?,
            exp: self.exp?,
            nbf: self.nbf?,
            iat: self.iat?,
            jti: self.jti?,
            uid: self.uid?,
            email: self.email?,
            first_name: self.first_name.unwrap_or_default(),
            last_name: self.last_name.unwrap_or_default(),
            display_name: self.display_name.unwrap_or_default(),
            org_id: self.org_id.unwrap_or_default(),
            org_slug: self.org_slug.unwrap_or_default(),
            org_name: self.org_name.unwrap_or_default(),
            roles: self.roles.unwrap_or_default(),
            permissions: self.permissions.unwrap_or_default(),
            token_type: self.token_type?,
            session_id: self.session_id.unwrap_or_default(),
            remember_me: self.remember_me.unwrap_or_default(),
            auth_provider: self.auth_provider.unwrap_or_default(),
            tv: self.tv.unwrap_or_default(),
            app_id: self.app_id.unwrap_or_default(),
            app_code: self.app_code.unwrap_or_default(),
            namespace: self.namespace.unwrap_or_default(),
            imp_uid: self.imp_uid.unwrap_or_default(),
            imp_email: self.imp_email.unwrap_or_default(),
        })
    }
}

/// Parses an access-token payload of the common shape; `None` = use the full parser.
pub(crate) fn parse_access(json: &[u8]) -> Option<AccessClaims> {
    // Validated once (like the full parser does); every slice below ends at an ASCII byte.
    let text = std::str::from_utf8(json).ok()?;
    let mut c = Cursor {
        text,
        b: json,
        i: 0,
    };
    let mut slots = Slots::default();
    c.ws();
    c.eat(b'{')?;
    c.ws();
    if c.peek()? != b'}' {
        loop {
            let key = c.str()?;
            c.ws();
            c.eat(b':')?;
            c.ws();
            slots.read(key, &mut c)?;
            c.ws();
            match c.peek()? {
                b',' => {
                    c.i += 1;
                    c.ws();
                }
                b'}' => break,
                _ => return None,
            }
        }
    }
    c.i += 1;
    c.ws();
    if c.i != json.len() {
        return None;
    }
    slots.finish()
}

#[cfg(test)]
mod tests {
    use super::parse_access;
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
                let mut w = *b"abcdefgh";
                w[lane] = b;
                let expect = b == b'"' || b == b'\\' || b < 0x20;
                assert_eq!(super::special(u64::from_le_bytes(w)), expect, "{lane} {b}");
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
}
