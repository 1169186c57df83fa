//! EksBlowfish, bcrypt's expensive key schedule, as [`Lane`]s: one hash in progress, advanced
//! alone ([`Lane::run`]) or two independent ones interleaved round by round in one thread
//! ([`run_pair`]); [`bcrypt_raw`] and [`bcrypt_raw_pair`] run lanes to the end.
//!
//! Each Blowfish encryption is a chain of 16 dependent S-box lookups, so one hash keeps the
//! core waiting on load latency; two unrelated chains in the same loop body let the
//! out-of-order core overlap them, giving more hashes per CPU-second. The output is the
//! `bcrypt` crate's (`bcrypt::bcrypt` with the key built as `bcrypt::hash` builds it),
//! checked against it by the tests.
//!
//! Lanes run in chunks of [`ITERATIONS_PER_PACE`] iterations, about 100 µs of work on this
//! CPU, between which the pool lets other runnable work go first ([`super::yield_policy`]) and
//! starts queued jobs in free lanes.

use super::pi;

/// Cost-loop iterations between two `pace` calls. One iteration (two key expansions) takes
/// ~49 µs alone here, ~53 µs for two lanes interleaved, so a chunk is ~100 µs.
pub const ITERATIONS_PER_PACE: u64 = 2;

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

/// One bcrypt computation in progress: the state after the salted key expansion and the
/// cost-loop iterations still to run. Lanes are independent, so two of them can be advanced
/// together ([`run_pair`]) whatever their costs and however far each has got: a pool thread
/// keeps two lanes busy and starts a queued job in a lane as soon as it frees.
#[derive(Clone)]
pub struct Lane {
    state: State,
    key: [u32; 18],
    salt_key: [u32; 18],
    left: u64,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane")
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}

impl Lane {
    /// Starts the hash of `password` at `cost` and `salt` (bytes after the 72nd are ignored,
    /// as the `bcrypt` crate ignores them; a NUL terminator is appended when it fits).
    #[must_use]
    pub fn start(cost: u32, salt: &[u8; 16], password: &[u8]) -> Self {
        let key = key_words(password);
        let salt = salt_words(salt);
        let mut state = State::initial();
        state.expand::<true>(&key, &salt);
        Self {
            state,
            key,
            salt_key: salt_as_key(&salt),
            left: iterations(cost),
        }
    }

    /// Whether every cost-loop iteration has run ([`Self::finish`] gives the output).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.left == 0
    }

    /// Runs up to `n` cost-loop iterations (fewer when fewer are left).
    pub fn run(&mut self, n: u64) {
        let n = n.min(self.left);
        for _ in 0..n {
            self.state.expand::<false>(&self.key, &[0; 4]);
            self.state.expand::<false>(&self.salt_key, &[0; 4]);
        }
        self.left -= n;
    }

    /// The 24 output bytes (meaningful once [`Self::is_done`]).
    #[must_use]
    pub fn finish(&self) -> [u8; 24] {
        self.state.finish()
    }
}

/// Runs up to `n` cost-loop iterations of both lanes interleaved (fewer when either has fewer
/// left: afterwards at least one of them is done or both ran `n`).
pub fn run_pair(a: &mut Lane, b: &mut Lane, n: u64) {
    let n = n.min(a.left).min(b.left);
    for _ in 0..n {
        expand2(&mut a.state, &a.key, &mut b.state, &b.key);
        expand2(&mut a.state, &a.salt_key, &mut b.state, &b.salt_key);
    }
    a.left -= n;
    b.left -= n;
}

/// bcrypt's raw 24 bytes for `password`: equal to `bcrypt::bcrypt(cost, salt, key)` for the
/// key `bcrypt::hash` builds. Cost is 4..=31 in practice (the loop runs 2^cost times).
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
    let mut lane = Lane::start(cost, salt, password);
    while !lane.is_done() {
        lane.run(ITERATIONS_PER_PACE);
        pace();
    }
    lane.finish()
}

/// Two bcrypt hashes interleaved: `(bcrypt_raw(cost, a), bcrypt_raw(cost, b))` for less CPU
/// than the two apart.
#[must_use]
pub fn bcrypt_raw_pair(
    cost: u32,
    a: (&[u8; 16], &[u8]),
    b: (&[u8; 16], &[u8]),
) -> ([u8; 24], [u8; 24]) {
    bcrypt_raw_pair_paced(cost, a, b, &mut || {})
}

/// [`bcrypt_raw_pair`], calling `pace` every [`ITERATIONS_PER_PACE`] loop iterations.
pub fn bcrypt_raw_pair_paced(
    cost: u32,
    (salt_a, password_a): (&[u8; 16], &[u8]),
    (salt_b, password_b): (&[u8; 16], &[u8]),
    pace: &mut dyn FnMut(),
) -> ([u8; 24], [u8; 24]) {
    let mut a = Lane::start(cost, salt_a, password_a);
    let mut b = Lane::start(cost, salt_b, password_b);
    while !a.is_done() {
        run_pair(&mut a, &mut b, ITERATIONS_PER_PACE);
        pace();
    }
    (a.finish(), b.finish())
}
