//! Strict base64url (no padding) decoding of JWS segments, table-driven.
//!
//! Accepts exactly what `base64`'s `URL_SAFE_NO_PAD` engine accepts (the URL-safe alphabet,
//! no `=`, no length ≡ 1 mod 4, no non-zero trailing bits) but validates a whole 4-character
//! group with one check instead of one branch per character.

/// Marks an invalid character in every table (outside the 24 payload bits).
const BAD: u32 = 1 << 31;

/// The 6-bit value of each byte, or 0xFF when it is not in the URL-safe alphabet.
const fn sextet(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => 0xFF,
    }
}

/// Table for the character at position `pos` (0–3) of a group: its sextet already shifted
/// into place in a 24-bit big-endian word, or [`BAD`].
const fn table(pos: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation)] // i < 256
        let s = sextet(i as u8);
        t[i] = if s == 0xFF {
            BAD
        } else {
            (s as u32) << (18 - 6 * pos)
        };
        i += 1;
    }
    t
}

static T0: [u32; 256] = table(0);
static T1: [u32; 256] = table(1);
static T2: [u32; 256] = table(2);
static T3: [u32; 256] = table(3);

#[inline]
fn group(c: &[u8; 4]) -> u32 {
    T0[usize::from(c[0])] | T1[usize::from(c[1])] | T2[usize::from(c[2])] | T3[usize::from(c[3])]
}

/// Length of the decoded form of `input`, or `None` for an impossible length (≡ 1 mod 4).
pub(crate) const fn decoded_len(input: &[u8]) -> Option<usize> {
    let tail = match input.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    Some(input.len() / 4 * 3 + tail)
}

/// Decodes 8 characters into 6 bytes; returns [`BAD`] (or more bits) for a bad character.
#[inline(always)]
fn eight(c: &[u8], d: &mut [u8]) -> u32 {
    let Ok(c) = <&[u8; 8]>::try_from(c) else {
        return BAD;
    };
    // Byte loads with the table lookups folded into them: fewer instructions than
    // shifting the bytes out of one 8-byte load.
    let at = |i: usize| usize::from(c[i]);
    let va = T0[at(0)] | T1[at(1)] | T2[at(2)] | T3[at(3)];
    let vb = T0[at(4)] | T1[at(5)] | T2[at(6)] | T3[at(7)];
    let w = (u64::from(va) << 24) | u64::from(vb & 0x00FF_FFFF);
    d.copy_from_slice(&w.to_be_bytes()[2..]);
    va | vb
}

/// Decodes one 64-character piece of a longer input into 48 bytes; false on a character
/// outside the alphabet. (Inlined into the caller's loop: no per-piece call or tail logic.)
#[inline]
pub(crate) fn decode_piece(input: &[u8; 64], out: &mut [u8; 48]) -> bool {
    let mut bad = 0u32;
    for (c, d) in input.chunks_exact(8).zip(out.chunks_exact_mut(6)) {
        bad |= eight(c, d);
    }
    bad & BAD == 0
}

/// Decodes `input` into a new vector; `None` when it is not canonical unpadded base64url.
pub(crate) fn decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; decoded_len(input)?];
    decode_to(input, &mut out)?;
    Some(out)
}

/// Decodes `input` into exactly `N` bytes, without allocating.
pub(crate) fn decode_array<const N: usize>(input: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    decode_to(input, &mut out)?;
    Some(out)
}

/// Decodes `input` into `out`, which must be exactly [`decoded_len`] long; `None` (with
/// `out` partly written) on bad input or a wrong output length. A long input may be decoded
/// piecewise: pieces whose length is a multiple of 8 decode to a multiple of 6 bytes.
pub(crate) fn decode_to(input: &[u8], out: &mut [u8]) -> Option<()> {
    if decoded_len(input)? != out.len() {
        return None;
    }
    let mut bad = 0u32;
    let mut groups = input.chunks_exact(8);
    let mut dst = out.chunks_exact_mut(6);
    for (c, d) in (&mut groups).zip(&mut dst) {
        bad |= eight(c, d);
    }
    let rest = groups.remainder();
    let out = dst.into_remainder();
    let (full, tail) = rest.split_at(rest.len() / 4 * 4);
    let (out_full, out_tail) = out.split_at_mut(full.len() / 4 * 3);
    if let Ok(c) = <&[u8; 4]>::try_from(full) {
        let v = group(c);
        bad |= v;
        out_full.copy_from_slice(&v.to_be_bytes()[1..]);
    }
    match *tail {
        [] => {}
        [a, b] => {
            let v = group(&[a, b, b'A', b'A']);
            // The last character may only carry the bits that complete the last byte.
            bad |= v | if v & 0x0000_FFFF == 0 { 0 } else { BAD };
            out_tail.copy_from_slice(&v.to_be_bytes()[1..2]);
        }
        [a, b, c] => {
            let v = group(&[a, b, c, b'A']);
            bad |= v | if v & 0x0000_00FF == 0 { 0 } else { BAD };
            out_tail.copy_from_slice(&v.to_be_bytes()[1..3]);
        }
        _ => return None,
    }
    (bad & BAD == 0).then_some(())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    fn reference(input: &[u8]) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(input).ok()
    }

    #[test]
    fn matches_the_base64_crate_on_edge_cases() {
        for s in [
            "",
            "A",
            "AA",
            "AB",
            "AQ",
            "AAA",
            "AAB",
            "AAE",
            "AAAA",
            "AA==",
            "AA=",
            "+/+/",
            "-_-_",
            "Zm9vYmFy",
            "Zm9vYmE",
            "Zm9vYg",
            "Zm9vYh",
            "Zm9v YmFy",
            "Zm9vYmFyA",
            "\u{e9}AAA",
            "AAAAAAA.",
            "////////",
            "________",
        ] {
            assert_eq!(
                super::decode(s.as_bytes()),
                reference(s.as_bytes()),
                "{s:?}"
            );
            let want: Option<[u8; 3]> = reference(s.as_bytes()).and_then(|v| v.try_into().ok());
            assert_eq!(super::decode_array::<3>(s.as_bytes()), want, "{s:?}");
        }
    }

    #[test]
    fn wrong_output_lengths_are_refused_not_panicking() {
        for (input, len) in [
            ("Zm9vYmFy", 5),
            ("Zm9vYmFy", 7),
            ("Zm9vYg", 0),
            ("Zm9vY", 3),
        ] {
            let mut out = vec![0u8; len];
            assert_eq!(
                super::decode_to(input.as_bytes(), &mut out),
                None,
                "{input} {len}"
            );
        }
    }

    proptest! {
        #[test]
        fn piecewise_decoding_matches_whole(data in proptest::collection::vec(any::<u8>(), 0..300),
                                            piece in 1usize..40) {
            let enc = URL_SAFE_NO_PAD.encode(&data);
            let mut out = vec![0u8; data.len()];
            let piece = piece * 8;
            for (i, o) in enc.as_bytes().chunks(piece).zip(out.chunks_mut(piece / 4 * 3)) {
                prop_assert_eq!(super::decode_to(i, o), Some(()));
            }
            prop_assert_eq!(out, data);
        }

        #[test]
        fn pieces_decode_like_the_whole(s in "[A-Za-z0-9_=+/. -]{64}") {
            let mut out = [0u8; 48];
            let ok = super::decode_piece(s.as_bytes().try_into().unwrap_or(&[0; 64]), &mut out);
            let want = reference(s.as_bytes());
            prop_assert_eq!(ok, want.is_some());
            if let Some(want) = want {
                prop_assert_eq!(&out[..], &want[..]);
            }
        }

        #[test]
        fn round_trips(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let enc = URL_SAFE_NO_PAD.encode(&data);
            prop_assert_eq!(super::decode(enc.as_bytes()), Some(data));
        }

        #[test]
        fn agrees_with_the_base64_crate(s in "[A-Za-z0-9_=+/. -]{0,40}") {
            prop_assert_eq!(super::decode(s.as_bytes()), reference(s.as_bytes()));
        }

        #[test]
        fn agrees_on_mutated_tokens(data in proptest::collection::vec(any::<u8>(), 1..100),
                                    at in any::<usize>(), byte in any::<u8>()) {
            let mut enc = URL_SAFE_NO_PAD.encode(&data).into_bytes();
            let i = at % enc.len();
            enc[i] = byte;
            prop_assert_eq!(super::decode(&enc), reference(&enc));
        }
    }
}
