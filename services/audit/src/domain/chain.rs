//! The hash chain over `audit_log` (migration 0010): the canonical bytes of a row, its hash,
//! and [`ChainVerifier`], which walks the rows in `seq` order and names the first row that was
//! altered or removed. Kept independent of the database's own functions on purpose: whoever can
//! change rows could also change those.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Postgres advisory-lock key that serialises appends to the chain (`'audit_ch'` in ASCII),
/// the same key as the insert trigger of migration 0010.
pub const CHAIN_LOCK_KEY: i64 = 0x6175_6469_745f_6368;
/// `prev_hash` of the first row ever written.
pub const GENESIS: [u8; 32] = [0; 32];
/// Action of the rows the retention job appends before it removes a prefix of the chain.
pub const CHECKPOINT_ACTION: &str = "audit.retention_checkpoint";

/// One `audit_log` row as the chain sees it (`details` as Postgres renders `jsonb` text).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChainRow {
    /// Position in the chain.
    pub seq: i64,
    /// Row id.
    pub id: Uuid,
    /// Outbox event id.
    pub event_id: Option<Uuid>,
    /// The actor.
    pub user_id: Option<Uuid>,
    /// The organisation concerned.
    pub organization_id: Option<Uuid>,
    /// Event name.
    pub action: String,
    /// Kind of the resource acted on.
    pub resource_type: Option<String>,
    /// Id of the resource acted on.
    pub resource_id: Option<Uuid>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// `details::text`.
    pub details: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The previous row's hash as stored.
    pub prev_hash: Vec<u8>,
    /// This row's hash as stored.
    pub hash: Vec<u8>,
}

fn field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(b'~'),
        Some(v) => {
            out.extend_from_slice(v.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
    }
}

/// The canonical bytes of a row: `audit_log.v1`, then each field as `<byte length>:<text>` or
/// `~` for null, in the order of migration 0010.
pub fn canonical(row: &ChainRow) -> Vec<u8> {
    let uuid = |u: Option<Uuid>| u.map(|u| u.to_string());
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"audit_log.v1");
    field(&mut out, Some(&row.seq.to_string()));
    field(&mut out, Some(&row.id.to_string()));
    field(&mut out, uuid(row.event_id).as_deref());
    field(&mut out, uuid(row.user_id).as_deref());
    field(&mut out, uuid(row.organization_id).as_deref());
    field(&mut out, Some(&row.action));
    field(&mut out, row.resource_type.as_deref());
    field(&mut out, uuid(row.resource_id).as_deref());
    field(&mut out, row.ip_address.as_deref());
    field(&mut out, row.user_agent.as_deref());
    field(&mut out, row.details.as_deref());
    let at = row.created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    field(&mut out, Some(&at));
    out
}

/// `sha256(prev || canonical(row))`.
pub fn row_hash(prev: &[u8], row: &ChainRow) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical(row));
    h.finalize().into()
}

/// What the retention job records before removing rows `..=through_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last removed row's `seq`.
    pub through_seq: i64,
    /// The last removed row's hash (hex).
    pub through_hash: String,
    /// How many rows the purge removed.
    pub removed: i64,
    /// Rows created before this time were due (RFC 3339).
    pub cutoff: String,
}

/// Where the remaining chain must start: the genesis or the latest retention checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// `seq` of the first row that must be present.
    pub first_seq: i64,
    /// The `prev_hash` that row must carry.
    pub prev_hash: Vec<u8>,
}

impl Anchor {
    /// The start of a chain that was never purged.
    pub fn genesis() -> Self {
        Self {
            first_seq: 1,
            prev_hash: GENESIS.to_vec(),
        }
    }

    /// The start after a purge; `None` when the checkpoint's hash is not hex.
    pub fn after(checkpoint: &Checkpoint) -> Option<Self> {
        Some(Self {
            first_seq: checkpoint.through_seq.checked_add(1)?,
            prev_hash: hex::decode(&checkpoint.through_hash).ok()?,
        })
    }
}

/// The first break in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A row's content, hash or link no longer matches what was written.
    Altered {
        /// The row's `seq`.
        seq: i64,
        /// The row's id.
        id: Uuid,
        /// What does not match.
        detail: String,
    },
    /// Rows `from_seq..=to_seq` are missing.
    Removed {
        /// First missing `seq`.
        from_seq: i64,
        /// Last missing `seq`.
        to_seq: i64,
    },
}

/// The result of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Rows checked (up to and including the first problem).
    pub checked: u64,
    /// The last good row's `seq` and hash.
    pub head: Option<(i64, Vec<u8>)>,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

/// Checks rows one by one, in `seq` order, from an [`Anchor`].
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: Vec<u8>,
    last: Option<(i64, Uuid)>,
    checked: u64,
    problem: Option<Problem>,
}

impl ChainVerifier {
    /// A walk that expects the chain to start at `anchor`.
    pub fn new(anchor: Anchor) -> Self {
        Self {
            next_seq: anchor.first_seq,
            prev_hash: anchor.prev_hash,
            last: None,
            checked: 0,
            problem: None,
        }
    }

    /// Checks the next row; returns `false` once a problem was found (stop feeding rows).
    pub fn push(&mut self, row: &ChainRow) -> bool {
        if self.problem.is_some() {
            return false;
        }
        self.checked += 1;
        self.problem = self.check(row);
        if self.problem.is_some() {
            return false;
        }
        self.next_seq = row.seq.saturating_add(1);
        self.prev_hash.clone_from(&row.hash);
        self.last = Some((row.seq, row.id));
        true
    }

    fn check(&self, row: &ChainRow) -> Option<Problem> {
        if row.seq > self.next_seq {
            return Some(Problem::Removed {
                from_seq: self.next_seq,
                to_seq: row.seq - 1,
            });
        }
        let altered = |seq, id, detail: &str| Problem::Altered {
            seq,
            id,
            detail: detail.to_owned(),
        };
        if row.seq < self.next_seq {
            return Some(altered(
                row.seq,
                row.id,
                "row precedes the latest retention checkpoint",
            ));
        }
        if row_hash(&row.prev_hash, row)[..] != row.hash[..] {
            return Some(altered(row.seq, row.id, "content does not match its hash"));
        }
        if row.prev_hash != self.prev_hash {
            return Some(match self.last {
                Some((seq, id)) => altered(
                    seq,
                    id,
                    "row was re-hashed: the next row recorded a different hash for it",
                ),
                None => altered(
                    row.seq,
                    row.id,
                    "first row does not link to the genesis or the retention checkpoint",
                ),
            });
        }
        None
    }

    /// The verdict after the last row.
    pub fn finish(self) -> Verdict {
        let head = self.last.map(|(seq, _)| (seq, self.prev_hash));
        Verdict {
            checked: self.checked,
            head,
            problem: self.problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainRow> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let mut row = ChainRow {
                    seq,
                    id: Uuid::new_v4(),
                    event_id: Some(Uuid::new_v4()),
                    user_id: None,
                    organization_id: None,
                    action: "login.success".to_owned(),
                    resource_type: None,
                    resource_id: None,
                    ip_address: Some("203.0.113.7".to_owned()),
                    user_agent: Some("ü".to_owned()),
                    details: Some(r#"{"k": 1}"#.to_owned()),
                    created_at: Utc::now(),
                    prev_hash: prev.clone(),
                    hash: Vec::new(),
                };
                row.hash = row_hash(&prev, &row).to_vec();
                prev.clone_from(&row.hash);
                row
            })
            .collect()
    }

    fn verify(rows: &[ChainRow], anchor: Anchor) -> Verdict {
        let mut v = ChainVerifier::new(anchor);
        for r in rows {
            if !v.push(r) {
                break;
            }
        }
        v.finish()
    }

    #[test]
    fn canonical_encoding_is_length_prefixed() {
        let rows = chain(1);
        let text = String::from_utf8(canonical(&rows[0])).unwrap_or_default();
        assert!(text.starts_with("audit_log.v11:136:"), "{text}");
        assert!(
            text.contains("~~13:login.success~~11:203.0.113.72:ü"),
            "{text}"
        );
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        let v = verify(&rows, Anchor::genesis());
        assert_eq!(v.problem, None);
        assert_eq!(v.checked, 5);
        assert_eq!(v.head.map(|h| h.0), Some(5));
    }

    #[test]
    fn altered_row_is_named() {
        let mut rows = chain(5);
        rows[2].ip_address = Some("198.51.100.1".to_owned());
        let v = verify(&rows, Anchor::genesis());
        assert!(matches!(v.problem, Some(Problem::Altered { seq: 3, .. })));
        // re-hashing the altered row only moves the evidence to the link
        let prev = rows[2].prev_hash.clone();
        rows[2].hash = row_hash(&prev, &rows[2]).to_vec();
        let v = verify(&rows, Anchor::genesis());
        assert!(matches!(v.problem, Some(Problem::Altered { seq: 3, .. })));
    }

    #[test]
    fn removed_rows_are_named() {
        let mut rows = chain(6);
        rows.remove(3);
        let v = verify(&rows, Anchor::genesis());
        assert_eq!(
            v.problem,
            Some(Problem::Removed {
                from_seq: 4,
                to_seq: 4
            })
        );
        let v = verify(&rows[2..], Anchor::genesis());
        assert_eq!(
            v.problem,
            Some(Problem::Removed {
                from_seq: 1,
                to_seq: 2
            })
        );
    }

    #[test]
    fn a_checkpoint_anchors_a_purged_chain() {
        let rows = chain(6);
        let cp = Checkpoint {
            through_seq: 2,
            through_hash: hex::encode(&rows[1].hash),
            removed: 2,
            cutoff: String::new(),
        };
        let anchor = Anchor::after(&cp).unwrap_or_else(Anchor::genesis);
        assert_eq!(verify(&rows[2..], anchor.clone()).problem, None);
        assert!(matches!(
            verify(&rows[3..], anchor).problem,
            Some(Problem::Removed { from_seq: 3, .. })
        ));
    }
}
