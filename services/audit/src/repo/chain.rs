//! Reading the chain for verification, and the retention purge that keeps it verifiable.

use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::chain::{
    Anchor, CHAIN_LOCK_KEY, CHECKPOINT_ACTION, ChainRow, ChainVerifier, Checkpoint, Problem,
    Verdict,
};

/// The latest retention checkpoint row (written by [`purge`]): its `seq`, id and details.
pub async fn latest_checkpoint(
    conn: &mut PgConnection,
) -> Result<Option<(i64, Uuid, Option<serde_json::Value>)>, sqlx::Error> {
    sqlx::query_as(
        "select seq, id, details from audit_log
         where action = $1 and event_id is null
         order by seq desc limit 1",
    )
    .bind(CHECKPOINT_ACTION)
    .fetch_optional(conn)
    .await
}

/// Every row in `seq` order, streamed from one cursor.
pub fn rows_in_order(conn: &mut PgConnection) -> BoxStream<'_, Result<ChainRow, sqlx::Error>> {
    sqlx::query_as::<_, ChainRow>(
        "select seq, id, event_id, user_id, organization_id, action::text as action,
                resource_type::text as resource_type, resource_id,
                ip_address::text as ip_address, user_agent, details::text as details,
                created_at, prev_hash, hash
         from audit_log order by seq",
    )
    .fetch(conn)
}

/// The result of [`verify`]: the walk's verdict and the checkpoint it started from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    /// `seq` of the latest retention checkpoint row, if rows were ever purged.
    pub checkpoint_seq: Option<i64>,
    /// The walk's verdict.
    pub verdict: Verdict,
}

/// Walks the whole chain in one read-only snapshot, from the genesis or the latest retention
/// checkpoint, and reports the first altered or removed row.
pub async fn verify(db: &PgPool) -> Result<ChainCheck, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let checkpoint = latest_checkpoint(&mut tx).await?;
    let anchor = match &checkpoint {
        None => Ok(Anchor::genesis()),
        Some((seq, id, details)) => details
            .clone()
            .and_then(|d| serde_json::from_value::<Checkpoint>(d).ok())
            .and_then(|c| Anchor::after(&c))
            .ok_or((*seq, *id)),
    };
    let verdict = match anchor {
        Ok(anchor) => {
            let mut walk = ChainVerifier::new(anchor);
            let mut rows = rows_in_order(&mut tx);
            while let Some(row) = rows.next().await {
                if !walk.push(&row?) {
                    break;
                }
            }
            walk.finish()
        }
        Err((seq, id)) => Verdict {
            checked: 0,
            head: None,
            problem: Some(Problem::Altered {
                seq,
                id,
                detail: "retention checkpoint is unreadable".to_owned(),
            }),
        },
    };
    tx.commit().await?;
    Ok(ChainCheck {
        checkpoint_seq: checkpoint.map(|c| c.0),
        verdict,
    })
}

/// What one purge transaction did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PurgeOutcome {
    /// Rows removed.
    pub removed: u64,
    /// The checkpoint appended before removing them (`None` when nothing was due).
    pub checkpoint: Option<Checkpoint>,
}

/// Removes up to `max_rows` of the oldest rows created before `cutoff`, in one transaction:
/// only a prefix of the chain (a row created before `cutoff` but appended after a newer one waits
/// until that one is due too), after appending a checkpoint row that names the last removed
/// row's `seq` and hash, so the rest of the chain still verifies. Holds the chain lock.
pub async fn purge(
    db: &PgPool,
    cutoff: DateTime<Utc>,
    max_rows: i64,
) -> Result<PurgeOutcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    // The longest prefix (at most max_rows) whose rows are all older than the cutoff.
    let through: Option<(i64, Vec<u8>, i64)> = sqlx::query_as(
        "with head as (
           select seq, hash, created_at from audit_log order by seq limit $2
         ), stop as (
           select min(seq) as seq from head where created_at >= $1
         )
         select h.seq, h.hash, (select count(*) from head where seq <= h.seq)
         from head h
         where h.seq < coalesce((select seq from stop), 9223372036854775807)
         order by h.seq desc limit 1",
    )
    .bind(cutoff)
    .bind(max_rows)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((through_seq, through_hash, removed)) = through else {
        tx.commit().await?;
        return Ok(PurgeOutcome::default());
    };
    let checkpoint = Checkpoint {
        through_seq,
        through_hash: hex::encode(through_hash),
        removed,
        cutoff: cutoff.to_rfc3339_opts(SecondsFormat::Micros, true),
    };
    let details = serde_json::to_string(&checkpoint).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "insert into audit_log (action, resource_type, details) values ($1, 'audit_log', $2::jsonb)",
    )
    .bind(CHECKPOINT_ACTION)
    .bind(details)
    .execute(&mut *tx)
    .await?;
    sqlx::query("select set_config('auth.audit_purge_through', $1, true)")
        .bind(through_seq.to_string())
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("delete from audit_log where seq <= $1")
        .bind(through_seq)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(PurgeOutcome {
        removed: done.rows_affected(),
        checkpoint: Some(checkpoint),
    })
}
