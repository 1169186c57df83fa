//! A bounded cache of verified access tokens, keyed by their exact bytes.
//!
//! A client presents the same access token on every request of its 15-minute life; the
//! signature check and claim parse only need to happen once. An entry is created only after a
//! token passed every check, and is found again only by a byte-identical token (the
//! signature segment is compared in constant time first), so a hit is exactly as trustworthy
//! as the original verification. The caller still re-checks `exp`/`nbf` against the clock and
//! asks the revocation source on every hit. Eviction is first-in, first-out per shard.
//!
//! The first verification of a token only records its bytes; the claims are kept from the
//! second one on, so tokens used once cost no claims copy.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use subtle::ConstantTimeEq as _;

use crate::claims::AccessClaims;

const SHARDS: usize = 8;
/// Length of the base64url signature segment of an HS256 token.
const SIG_LEN: usize = 43;

struct Entry {
    signature: [u8; SIG_LEN],
    signed_part: Box<[u8]>,
    claims: Option<Arc<AccessClaims>>,
}

/// What the cache knows about a token.
pub(crate) enum Lookup {
    /// Verified before; here are its claims.
    Hit(Arc<AccessClaims>),
    /// Verified once before; its claims are worth keeping now.
    Seen,
    /// Unknown.
    Miss,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<u64, Entry>,
    order: VecDeque<u64>,
}

pub(crate) struct ClaimsCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

/// Splits a token into (key, signature, signed part) when it has an HS256-sized signature.
fn split(token: &[u8]) -> Option<(u64, &[u8; SIG_LEN], &[u8])> {
    let dot = token.len().checked_sub(SIG_LEN + 1)?;
    if token.get(dot) != Some(&b'.') {
        return None;
    }
    let signature: &[u8; SIG_LEN] = token.get(dot + 1..)?.try_into().ok()?;
    let mut k = [0u8; 8];
    k.copy_from_slice(&signature[..8]);
    Some((u64::from_le_bytes(k), signature, &token[..dot]))
}

impl ClaimsCache {
    /// A cache holding about `capacity` tokens (0 disables it).
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        let shards = if per_shard == 0 {
            Vec::new()
        } else {
            (0..SHARDS).map(|_| Mutex::default()).collect()
        };
        Self { shards, per_shard }
    }

    fn shard(&self, key: u64) -> Option<&Mutex<Shard>> {
        if self.shards.is_empty() {
            return None;
        }
        // `SHARDS` is tiny, so the cast cannot truncate meaningfully.
        #[allow(clippy::cast_possible_truncation)]
        self.shards.get((key % SHARDS as u64) as usize)
    }

    /// What is known about a previously verified, byte-identical token.
    pub(crate) fn get(&self, token: &[u8]) -> Lookup {
        let Some((key, signature, signed)) = split(token) else {
            return Lookup::Miss;
        };
        let Some(Ok(shard)) = self.shard(key).map(Mutex::lock) else {
            return Lookup::Miss;
        };
        let Some(entry) = shard.entries.get(&key) else {
            return Lookup::Miss;
        };
        if !(bool::from(entry.signature.ct_eq(signature)) && *entry.signed_part == *signed) {
            return Lookup::Miss;
        }
        entry
            .claims
            .as_ref()
            .map_or(Lookup::Seen, |c| Lookup::Hit(c.clone()))
    }

    /// Remembers a token that passed every check (with its claims, or only its bytes).
    pub(crate) fn insert(&self, token: &[u8], claims: Option<Arc<AccessClaims>>) {
        let Some((key, signature, signed)) = split(token) else {
            return;
        };
        let Some(Ok(mut shard)) = self.shard(key).map(Mutex::lock) else {
            return;
        };
        let entry = Entry {
            signature: *signature,
            signed_part: signed.into(),
            claims: claims.clone(),
        };
        if shard.entries.insert(key, entry).is_none() {
            shard.order.push_back(key);
            while shard.order.len() > self.per_shard {
                if let Some(old) = shard.order.pop_front() {
                    shard.entries.remove(&old);
                }
            }
        }
    }
}
