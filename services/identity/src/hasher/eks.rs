//! EksBlowfish, bcrypt's expensive key schedule, one hash at a time ([`bcrypt_raw`]) or two
//! independent hashes interleaved round by round in one thread ([`bcrypt_raw_pair`]).
//!
//! Each Blowfish encryption is a chain of 16 dependent S-box lookups, so one hash keeps the
//! core waiting on load latency; two unrelated chains in the same loop body let the
//! out-of-order core overlap them, giving more hashes per CPU-second. The output is the
//! `bcrypt` crate's (`bcrypt::bcrypt` with the key built as `bcrypt::hash` builds it),
//! checked against it by the tests.
//!
//! The long loop calls a `pace` hook every [`ITERATIONS_PER_PACE`] (single) or
//! [`PAIR_ITERATIONS_PER_PACE`] (pair) iterations, about every 100 µs of work on this CPU, where
//! the pool lets other runnable work go first ([`super::yield_policy`]).

use super::pi;

/// Cost-loop iterations (two key expansions each, ~49 µs here) between two `pace` calls.
pub const ITERATIONS_PER_PACE: u64 = 2;

/// Cost-loop iterations of a pair (four interleaved key expansions, ~53 µs here) per `pace`.
pub const PAIR_ITERATIONS_PER_PACE: u64 = 2;

/// bcrypt reads at most this many key bytes (the password and its NUL terminator).
const MAX_KEY: usize = 72;

/// "OrpheanBeholderScryDoubt", the text bcrypt encrypts 64 times with the final state.
const MAGIC: [u32; 6] = [
    0x4f72_7068,
    0x6561_6e42,
    0x6568_6f6c,
    0x6465_7253,
    0x6372_7944,
    0x6f75_6274,
];

/// A Blowfish state: the P-array and the four S-boxes (fixed sizes, so indexing by a byte
/// needs no bounds check).
#[derive(Clone)]
#[repr(C, align(64))]
struct State {
    s: [[u32; 256]; 4],
    p: [u32; 18],
}

/// The 18 key words bcrypt XORs into the P-array: `password`, then one NUL, cut at 72 bytes
/// (as the `bcrypt` crate builds its key), read cyclically as big-endian words.
fn key_words(password: &[u8]) -> [u32; 18] {
    let mut buf = [0u8; MAX_KEY];
    let take = password.len().min(MAX_KEY);
    if let (Some(dst), Some(src)) = (buf.get_mut(..take), password.get(..take)) {
        dst.copy_from_slice(src);
    }
    // the NUL is already there (buf is zeroed) when it fits; a 72-byte password has none
    let len = (take + 1).min(MAX_KEY);
    let key = buf.get(..len).unwrap_or(&buf);
    let mut words = [0u32; 18];
    let mut pos = 0;
    for w in &mut words {
        for _ in 0..4 {
            *w = (*w << 8) | u32::from(key.get(pos).copied().unwrap_or(0));
            pos = (pos + 1) % len;
        }
    }
    buf.fill(0);
    words
}

/// The salt as four big-endian words (a 16-byte key or salt stream repeats every 4 words).
fn salt_words(salt: &[u8; 16]) -> [u32; 4] {
    let mut w = [0u32; 4];
    for (word, chunk) in w.iter_mut().zip(salt.chunks_exact(4)) {
        *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    w
}

/// The salt words repeated to 18 (the salt used as an ExpandKey key).
fn salt_as_key(salt: &[u32; 4]) -> [u32; 18] {
    std::array::from_fn(|i| salt[i % 4])
}

impl State {
    /// The initial state (pi's digits).
    fn initial() -> Self {
        Self { s: pi::S, p: pi::P }
    }

    #[inline(always)]
    fn f(&self, x: u32) -> u32 {
        let s = &self.s;
        let a = s[0][(x >> 24) as usize];
        let b = s[1][((x >> 16) & 0xff) as usize];
        let c = s[2][((x >> 8) & 0xff) as usize];
        let d = s[3][(x & 0xff) as usize];
        (a.wrapping_add(b) ^ c).wrapping_add(d)
    }

    /// One Blowfish block encryption (the halves come back swapped, as Blowfish defines).
    #[inline(always)]
    fn encrypt(&self, [mut l, mut r]: [u32; 2]) -> [u32; 2] {
        for i in 0..8 {
            l ^= self.p[2 * i];
            r ^= self.f(l);
            r ^= self.p[2 * i + 1];
            l ^= self.f(r);
        }
        [r ^ self.p[17], l ^ self.p[16]]
    }

    /// ExpandKey: `key` into the P-array, then every P and S word re-encrypted in a chain;
    /// when `SALTED`, the chain input is XORed with the salt stream first (`salt`, cycling).
    #[inline(always)]
    fn expand<const SALTED: bool>(&mut self, key: &[u32; 18], salt: &[u32; 4]) {
        for (p, k) in self.p.iter_mut().zip(key) {
            *p ^= k;
        }
        let mut lr = [0u32; 2];
        let mut n = 0usize;
        let mut next = |lr: [u32; 2]| {
            if SALTED {
                let t = [lr[0] ^ salt[n % 4], lr[1] ^ salt[(n + 1) % 4]];
                n += 2;
                t
            } else {
                lr
            }
        };
        for i in 0..9 {
            lr = self.encrypt(next(lr));
            self.p[2 * i] = lr[0];
            self.p[2 * i + 1] = lr[1];
        }
        for b in 0..4 {
            for j in 0..128 {
                lr = self.encrypt(next(lr));
                self.s[b][2 * j] = lr[0];
                self.s[b][2 * j + 1] = lr[1];
            }
        }
    }

    /// The 24 output bytes: the magic text encrypted 64 times, big-endian.
    fn finish(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
            let mut lr = [MAGIC[2 * i], MAGIC[2 * i + 1]];
            for _ in 0..64 {
                lr = self.encrypt(lr);
            }
            chunk[..4].copy_from_slice(&lr[0].to_be_bytes());
            chunk[4..].copy_from_slice(&lr[1].to_be_bytes());
        }
        out
    }
}

/// Two states' encryptions, round by round (the whole point: two independent chains).
#[inline(always)]
fn encrypt2(
    a: &State,
    b: &State,
    [mut la, mut ra]: [u32; 2],
    [mut lb, mut rb]: [u32; 2],
) -> [[u32; 2]; 2] {
    for i in 0..8 {
        la ^= a.p[2 * i];
        lb ^= b.p[2 * i];
        ra ^= a.f(la);
        rb ^= b.f(lb);
        ra ^= a.p[2 * i + 1];
        rb ^= b.p[2 * i + 1];
        la ^= a.f(ra);
        lb ^= b.f(rb);
    }
    [[ra ^ a.p[17], la ^ a.p[16]], [rb ^ b.p[17], lb ^ b.p[16]]]
}

/// ExpandKey (unsalted) on two states at once.
#[inline(always)]
fn expand2(a: &mut State, ka: &[u32; 18], b: &mut State, kb: &[u32; 18]) {
    for ((pa, pb), (x, y)) in a.p.iter_mut().zip(b.p.iter_mut()).zip(ka.iter().zip(kb)) {
        *pa ^= x;
        *pb ^= y;
    }
    let (mut lra, mut lrb) = ([0u32; 2], [0u32; 2]);
    for i in 0..9 {
        [lra, lrb] = encrypt2(a, b, lra, lrb);
        a.p[2 * i] = lra[0];
        a.p[2 * i + 1] = lra[1];
        b.p[2 * i] = lrb[0];
        b.p[2 * i + 1] = lrb[1];
    }
    for box_ in 0..4 {
        for j in 0..128 {
            [lra, lrb] = encrypt2(a, b, lra, lrb);
            a.s[box_][2 * j] = lra[0];
            a.s[box_][2 * j + 1] = lra[1];
            b.s[box_][2 * j] = lrb[0];
            b.s[box_][2 * j + 1] = lrb[1];
        }
    }
}

/// 2^cost (cost ≥ 64 would never end anyway; callers accept 4..=31 only).
fn iterations(cost: u32) -> u64 {
    1u64.checked_shl(cost).unwrap_or(u64::MAX)
}

/// bcrypt's raw 24 bytes for `password` (bytes after the 72nd are ignored, as the `bcrypt`
/// crate ignores them; a NUL terminator is appended when it fits): equal to
/// `bcrypt::bcrypt(cost, salt, key)` for the key `bcrypt::hash` builds. Cost is 4..=31 in
/// practice (the loop runs 2^cost times).
#[must_use]
pub fn bcrypt_raw(cost: u32, salt: &[u8; 16], password: &[u8]) -> [u8; 24] {
    bcrypt_raw_paced(cost, salt, password, &mut || {})
}

/// [`bcrypt_raw`], calling `pace` every [`ITERATIONS_PER_PACE`] loop iterations.
pub fn bcrypt_raw_paced(
    cost: u32,
    salt: &[u8; 16],
    password: &[u8],
    pace: &mut dyn FnMut(),
) -> [u8; 24] {
    let key = key_words(password);
    let salt = salt_words(salt);
    let salt_key = salt_as_key(&salt);
    let mut st = State::initial();
    st.expand::<true>(&key, &salt);
    let mut until_pace = ITERATIONS_PER_PACE;
    for _ in 0..iterations(cost) {
        st.expand::<false>(&key, &salt);
        st.expand::<false>(&salt_key, &salt);
        until_pace -= 1;
        if until_pace == 0 {
            pace();
            until_pace = ITERATIONS_PER_PACE;
        }
    }
    st.finish()
}

/// Two bcrypt hashes of the same cost, interleaved: `(bcrypt_raw(cost, a), bcrypt_raw(cost, b))`
/// for less CPU than the two apart.
#[must_use]
pub fn bcrypt_raw_pair(
    cost: u32,
    a: (&[u8; 16], &[u8]),
    b: (&[u8; 16], &[u8]),
) -> ([u8; 24], [u8; 24]) {
    bcrypt_raw_pair_paced(cost, a, b, &mut || {})
}

/// [`bcrypt_raw_pair`], calling `pace` every [`PAIR_ITERATIONS_PER_PACE`] loop iterations.
pub fn bcrypt_raw_pair_paced(
    cost: u32,
    (salt_a, password_a): (&[u8; 16], &[u8]),
    (salt_b, password_b): (&[u8; 16], &[u8]),
    pace: &mut dyn FnMut(),
) -> ([u8; 24], [u8; 24]) {
    let (key_a, key_b) = (key_words(password_a), key_words(password_b));
    let (salt_a, salt_b) = (salt_words(salt_a), salt_words(salt_b));
    let (skey_a, skey_b) = (salt_as_key(&salt_a), salt_as_key(&salt_b));
    let (mut a, mut b) = (State::initial(), State::initial());
    a.expand::<true>(&key_a, &salt_a);
    b.expand::<true>(&key_b, &salt_b);
    let mut until_pace = PAIR_ITERATIONS_PER_PACE;
    for _ in 0..iterations(cost) {
        expand2(&mut a, &key_a, &mut b, &key_b);
        expand2(&mut a, &skey_a, &mut b, &skey_b);
        until_pace -= 1;
        if until_pace == 0 {
            pace();
            until_pace = PAIR_ITERATIONS_PER_PACE;
        }
    }
    (a.finish(), b.finish())
}
