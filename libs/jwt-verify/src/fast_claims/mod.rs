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
//!
//! Keys are recognised by comparing the next 16 bytes, as one integer, with the precomputed
//! `"name":` of each field, starting with the field after the previous one: an issuer writes
//! them in a fixed order, so the first comparison usually hits. Any other spelling (spaces
//! around the colon, the payload's last bytes) goes through the ordinary string reader.

use crate::claims::{AccessClaims, TokenType};
use crate::error::{InvalidReason, VerifyError};

#[cfg(test)]
mod tests;

/// Longest integer accepted here (well inside both `i64` and `u64`).
const MAX_DIGITS: usize = 18;

struct Cursor<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// One bit (the high bit of its byte) for every byte of `x` that is `"`, `\\` or below
/// 0x20. The lowest set bit is exact (the tricks can only misfire above a real hit).
fn special(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_in(x ^ (ONES * 0x22));
    let backslash = zero_in(x ^ (ONES * 0x5C));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control
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
        // Eight bytes at a time; the first special byte's position comes from the mask.
        while let Some(w) = rest.get(j..j + 8) {
            let hits = special(u64::from_le_bytes(w.try_into().ok()?));
            if hits != 0 {
                j += (hits.trailing_zeros() / 8) as usize;
                return self.close(start, j);
            }
            j += 8;
        }
        while !matches!(rest.get(j)?, b'"' | b'\\' | 0..=0x1F) {
            j += 1;
        }
        self.close(start, j)
    }

    /// Ends the string of `len` bytes at `start`, if a quote (not an escape) follows it.
    fn close(&mut self, start: usize, len: usize) -> Option<&'a str> {
        let end = start + len;
        (self.b.get(end) == Some(&b'"')).then_some(())?;
        self.i = end + 1;
        self.text.get(start..end)
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

    /// The index in [`FIELDS`] of the key at the cursor (consumed with its colon), looking
    /// first at `next`; `None` for a key that is no field.
    fn key(&mut self, next: usize) -> Option<usize> {
        if let Some(w) = self.b.get(self.i..self.i + 16) {
            let w = u128::from_le_bytes(w.try_into().ok()?);
            for k in (next..FIELDS.len()).chain(0..next) {
                let p = &FIELDS[k].key;
                if w & p.mask == p.bits {
                    self.i += p.len;
                    return Some(k);
                }
            }
        }
        let name = self.str()?;
        self.ws();
        self.eat(b':')?;
        FIELDS.iter().position(|f| f.name == name)
    }
}

/// `"name":` as the low bytes of a little-endian 16-byte word.
#[derive(Clone, Copy)]
struct KeyPattern {
    bits: u128,
    mask: u128,
    len: usize,
}

const fn key_pattern(name: &str) -> KeyPattern {
    let n = name.as_bytes();
    let len = n.len() + 3;
    assert!(len <= 16, "field name too long for a 16-byte key pattern");
    let mut bytes = [0u8; 16];
    bytes[0] = b'"';
    let mut i = 0;
    while i < n.len() {
        bytes[i + 1] = n[i];
        i += 1;
    }
    bytes[len - 2] = b'"';
    bytes[len - 1] = b':';
    let mask = if len == 16 {
        u128::MAX
    } else {
        (1u128 << (8 * len)) - 1
    };
    KeyPattern {
        bits: u128::from_le_bytes(bytes),
        mask,
        len,
    }
}

/// One claim: its key and how its value is read into the claims.
struct Field {
    name: &'static str,
    key: KeyPattern,
    read: fn(&mut AccessClaims, &mut Cursor<'_>) -> Option<()>,
}

macro_rules! fields {
    ($($name:ident: $reader:ident),* $(,)?) => {
        /// Every field of [`AccessClaims`], in declaration (= serialization) order.
        const FIELDS: &[Field] = &[$(Field {
            name: stringify!($name),
            key: key_pattern(stringify!($name)),
            read: |claims, c| {
                claims.$name = c.$reader()?;
                Some(())
            },
        }),*];
    };
}

fields! {
    iss: string, sub: string, aud: audience, exp: int, nbf: int, iat: int, jti: string,
    uid: string, email: string, first_name: string, last_name: string, display_name: string,
    org_id: string, org_slug: string, org_name: string, roles: null_or_strings,
    permissions: null_or_strings, token_type: token_type, session_id: string,
    remember_me: bool, auth_provider: string, tv: uint, app_id: string, app_code: string,
    namespace: string, imp_uid: string, imp_email: string,
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The claims without a serde default: one bit per index in [`FIELDS`].
const REQUIRED: u32 = {
    let required = [
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "uid",
        "email",
        "token_type",
    ];
    let mut mask = 0;
    let mut k = 0;
    while k < FIELDS.len() {
        let mut r = 0;
        while r < required.len() {
            if same(FIELDS[k].name.as_bytes(), required[r].as_bytes()) {
                mask |= 1 << k;
            }
            r += 1;
        }
        k += 1;
    }
    mask
};

/// What serde's defaults give every optional claim (the required ones are overwritten).
fn empty_claims() -> AccessClaims {
    AccessClaims {
        iss: String::new(),
        sub: String::new(),
        aud: Vec::new(),
        exp: 0,
        nbf: 0,
        iat: 0,
        jti: String::new(),
        uid: String::new(),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        display_name: String::new(),
        org_id: String::new(),
        org_slug: String::new(),
        org_name: String::new(),
        roles: Vec::new(),
        permissions: Vec::new(),
        token_type: TokenType::Access,
        session_id: String::new(),
        remember_me: false,
        auth_provider: String::new(),
        tv: 0,
        app_id: String::new(),
        app_code: String::new(),
        namespace: String::new(),
        imp_uid: String::new(),
        imp_email: String::new(),
    }
}

/// Parses an access-token payload: the common shape here, anything else (and every
/// refusal) by the full parser.
pub(crate) fn parse_access(json: &[u8]) -> Result<AccessClaims, VerifyError> {
    let mut claims = empty_claims();
    match fill(json, &mut claims) {
        Some(()) => Ok(claims),
        None => crate::strict_json::from_slice(json).map_err(|_| InvalidReason::Claims.into()),
    }
}

/// Reads a payload of the common shape into `claims` (empty on entry); `None` = use the
/// full parser.
fn fill(json: &[u8], claims: &mut AccessClaims) -> Option<()> {
    // Validated once (like the full parser does); every slice below ends at an ASCII byte.
    let text = std::str::from_utf8(json).ok()?;
    let mut c = Cursor {
        text,
        b: json,
        i: 0,
    };
    let mut seen = 0u32;
    let mut next = 0;
    c.ws();
    c.eat(b'{')?;
    c.ws();
    if c.peek()? != b'}' {
        loop {
            let k = c.key(next)?;
            let bit = 1u32 << k;
            if seen & bit != 0 {
                return None; // a repeated key: the full parser refuses it (JWT-11)
            }
            seen |= bit;
            next = k + 1;
            c.ws();
            (FIELDS[k].read)(claims, &mut c)?;
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
    (c.i == json.len() && seen & REQUIRED == REQUIRED).then_some(())
}

/// The fast path alone (tests): `None` where the full parser would have to decide.
#[cfg(test)]
fn fast_only(json: &[u8]) -> Option<AccessClaims> {
    let mut claims = empty_claims();
    fill(json, &mut claims).map(|()| claims)
}
