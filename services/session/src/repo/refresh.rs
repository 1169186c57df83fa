//! The unhappy paths of a refresh: ending a family with its audit event, and reading the
//! presented row again after a rotation changed nothing.

use auth_bus::AuditEvent;
use auth_tokens::revoke_family;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::refresh::AfterLoss;

/// Revokes every live row of `family_id` (and its session) with `reason`, and writes `event`
/// to the outbox in the same transaction when this call revoked something (one audit row per
/// family death, however many replays race). Returns how many rows it revoked.
pub async fn end_family(
    pool: &PgPool,
    family_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    event: &AuditEvent,
) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    let revoked = revoke_family(&mut tx, family_id, reason, now).await?;
    if revoked > 0 {
        auth_bus::enqueue_audit(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

#[derive(sqlx::FromRow)]
struct AfterLossRow {
    revoked: bool,
    revoked_reason: Option<String>,
    session_terminated: bool,
    token_version: Option<i64>,
}

/// The presented row, its session and its user's token version, read again.
pub async fn read_after_loss(conn: &mut PgConnection, row_id: Uuid) -> sqlx::Result<AfterLoss> {
    let row: Option<AfterLossRow> = sqlx::query_as(
        "select r.revoked is true as revoked, r.revoked_reason,
                exists (select 1 from sessions s
                         where s.refresh_token_id = r.id and s.terminated is true)
                    as session_terminated,
                (select u.token_version from users u where u.id = r.user_id) as token_version
           from refresh_tokens r
          where r.id = $1",
    )
    .bind(row_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => AfterLoss {
            exists: false,
            revoked: false,
            revoked_reason: None,
            session_terminated: false,
            token_version: None,
        },
        Some(r) => AfterLoss {
            exists: true,
            revoked: r.revoked,
            revoked_reason: r.revoked_reason,
            session_terminated: r.session_terminated,
            token_version: r.token_version,
        },
    })
}
