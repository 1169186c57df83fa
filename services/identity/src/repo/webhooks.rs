//! Webhook deliveries as rows of the `jobs` table (`migrations/0015`): one row per delivery,
//! named `webhook:<delivery id>`, with what to send in `payload`, the attempts started in
//! `attempts` and the next attempt's due time in `next_run_at` (null once finished).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Prefix of delivery row names (never a cleanup job's name).
pub const NAME_PREFIX: &str = "webhook:";
/// Postgres channel notified (at commit) when a delivery is queued.
pub const CHANNEL: &str = "identity_webhooks";
/// `last_status` of a delivery waiting for its first or next attempt.
pub const PENDING: &str = "pending";
/// `last_status` while an attempt is in flight.
pub const RUNNING: &str = "running";
/// `last_status` of a delivered one.
pub const DELIVERED: &str = "delivered";
/// `last_status` of one given up (4xx, or every attempt failed).
pub const FAILED: &str = "failed";

/// A claimed delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// Delivery id (the `X-Vendidit-Delivery` header).
    pub id: Uuid,
    /// `{url, event, body}`.
    pub payload: Value,
    /// Attempts started, this one included.
    pub attempts: i32,
}

/// The `apps.webhooks` JSON of an app.
pub async fn app_webhooks(conn: &mut PgConnection, app_id: Uuid) -> sqlx::Result<Value> {
    let hooks: Option<Value> = sqlx::query_scalar("select webhooks from apps where id = $1")
        .bind(app_id)
        .fetch_optional(conn)
        .await?;
    Ok(hooks.unwrap_or(Value::Null))
}

/// Queues one delivery due at `due`, in the caller's transaction; the notification wakes
/// the workers when (and only if) the transaction commits.
pub async fn enqueue(
    conn: &mut PgConnection,
    id: Uuid,
    payload: &Value,
    due: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "with ins as (
            insert into jobs (name, paused, interval_seconds, last_status, next_run_at, payload, attempts)
            values ($1, false, 0, $2, $3, $4, 0))
         select pg_notify($5, '')",
    )
    .bind(format!("{NAME_PREFIX}{id}"))
    .bind(PENDING)
    .bind(due)
    .bind(payload)
    .bind(CHANNEL)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` deliveries due at `now` (skipping rows other workers hold): each
/// gets one more attempt and a lease until `lease_until`, after which a crashed attempt
/// is retried.
pub async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as(
        "update jobs j
            set attempts = j.attempts + 1, last_status = $4, last_started_at = $1,
                next_run_at = $2, updated_at = now()
          where j.name in (
                select name from jobs
                 where payload is not null and next_run_at <= $1 and name like 'webhook:%'
                 order by next_run_at
                 limit $3
                   for update skip locked)
         returning substr(j.name, 9)::uuid as id, j.payload, j.attempts",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .bind(RUNNING)
    .fetch_all(pool)
    .await
}

/// Records an attempt's end: `next` = the retry's due time, or `None` when finished with
/// `status` ([`DELIVERED`] or [`FAILED`]).
pub async fn finish_attempt(
    pool: &PgPool,
    id: Uuid,
    now: DateTime<Utc>,
    status: &str,
    error: Option<&str>,
    next: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update jobs set last_status = $3, last_error = $4, next_run_at = $5,
                last_finished_at = $2, updated_at = now()
          where name = $1",
    )
    .bind(format!("{NAME_PREFIX}{id}"))
    .bind(now)
    .bind(status)
    .bind(error)
    .bind(next)
    .execute(pool)
    .await?;
    Ok(())
}

/// The earliest due time of any queued delivery.
pub async fn next_due(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("select min(next_run_at) from jobs where payload is not null")
        .fetch_one(pool)
        .await
}

/// Deletes finished deliveries that ended before `before`.
pub async fn purge_finished(pool: &PgPool, before: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "delete from jobs where payload is not null and next_run_at is null
            and last_finished_at < $1 and name like 'webhook:%'",
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected())
}
