//! The `jobs` table (state shared by every replica) and the cleanup statements.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::jobs::JobName;

/// Status written while a job runs.
pub const STATUS_RUNNING: &str = "running";
/// Status of a run that finished.
pub const STATUS_SUCCEEDED: &str = "succeeded";
/// Status of a run that failed.
pub const STATUS_FAILED: &str = "failed";

/// A run older than this is considered abandoned (its replica died) and may be claimed again.
const ABANDONED_AFTER_SECS: f64 = 3600.0;
/// Rows deleted per statement, so a large backlog never holds long locks.
const BATCH: i64 = 5000;
/// Revoked refresh rows of dead families are kept this long for reuse audits.
const DEAD_FAMILY_RETENTION_SECS: f64 = 86_400.0;

/// One row of `jobs`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    /// Job name.
    pub name: String,
    /// Whether the schedule is paused.
    pub paused: bool,
    /// Seconds between scheduled runs.
    pub interval_seconds: i32,
    /// Start of the last run.
    pub last_started_at: Option<DateTime<Utc>>,
    /// End of the last run.
    pub last_finished_at: Option<DateTime<Utc>>,
    /// `running`, `succeeded` or `failed`.
    pub last_status: Option<String>,
    /// Failure of the last run.
    pub last_error: Option<String>,
    /// Rows removed by the last run.
    pub last_affected: Option<i64>,
    /// When the next scheduled run is due.
    pub next_run_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "name, paused, interval_seconds, last_started_at, last_finished_at, \
                       last_status, last_error, last_affected, next_run_at";

/// Every known job, in name order.
pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from jobs where name = any($1) order by name"
    ))
    .bind(JobName::all_names())
    .fetch_all(pool)
    .await
}

/// One job's row.
pub async fn get(pool: &PgPool, job: JobName) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from jobs where name = $1"))
        .bind(job.as_str())
        .fetch_optional(pool)
        .await
}

/// Pauses or resumes the schedule of `job` (creating its row if an adopted database lacks
/// it). Returns the row.
pub async fn set_paused(pool: &PgPool, job: JobName, paused: bool) -> sqlx::Result<JobRow> {
    sqlx::query_as(&format!(
        "insert into jobs (name, paused) values ($1, $2)
         on conflict (name) do update set paused = $2, updated_at = now()
         returning {COLUMNS}"
    ))
    .bind(job.as_str())
    .bind(paused)
    .fetch_one(pool)
    .await
}

/// Claims one job to run at `now`: `only` (whether due or paused: a manual trigger), or
/// else any unpaused job whose `next_run_at` has come. Row locks taken with `skip locked`
/// and the `running` status make sure one replica runs a job at a time; the claim also
/// moves `next_run_at` one interval ahead.
pub async fn claim(
    pool: &PgPool,
    only: Option<JobName>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<JobName>> {
    let names = match only {
        Some(job) => vec![job.as_str().to_owned()],
        None => JobName::all_names(),
    };
    let claimed: Option<String> = sqlx::query_scalar(
        "update jobs j
            set last_started_at = $1, last_status = $4, last_error = null, updated_at = $1,
                next_run_at = $1 + make_interval(secs => j.interval_seconds)
          where j.name = (
                select name from jobs
                 where name = any($2)
                   and ($3 or (not paused and (next_run_at is null or next_run_at <= $1)))
                   and (last_status is distinct from $4
                        or last_started_at < $1 - make_interval(secs => $5))
                 order by next_run_at nulls first, name
                 limit 1
                   for update skip locked)
         returning j.name",
    )
    .bind(now)
    .bind(names)
    .bind(only.is_some())
    .bind(STATUS_RUNNING)
    .bind(ABANDONED_AFTER_SECS)
    .fetch_optional(pool)
    .await?;
    Ok(claimed.as_deref().and_then(JobName::parse))
}

/// Records the end of a run: rows removed, or the failure.
pub async fn finish(
    pool: &PgPool,
    job: JobName,
    now: DateTime<Utc>,
    outcome: &Result<i64, String>,
) -> sqlx::Result<()> {
    let (status, affected, error) = match outcome {
        Ok(n) => (STATUS_SUCCEEDED, Some(*n), None),
        Err(e) => (STATUS_FAILED, None, Some(e.as_str())),
    };
    sqlx::query(
        "update jobs set last_finished_at = $2, last_status = $3, last_affected = $4,
                last_error = $5, updated_at = $2
          where name = $1",
    )
    .bind(job.as_str())
    .bind(now)
    .bind(status)
    .bind(affected)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Runs `job`'s cleanup at `now` in batches; returns the rows removed.
pub async fn cleanup(pool: &PgPool, job: JobName, now: DateTime<Utc>) -> sqlx::Result<i64> {
    let statements: &[&str] = match job {
        JobName::RefreshTokens => &[
            // expired rows: a replay fails on the JWT's own expiry; sessions cascade
            "delete from refresh_tokens where id in (
                 select id from refresh_tokens where expires_at < $1 limit $2)",
            // revoked rows of families with no live row left, after a day for reuse audits
            "delete from refresh_tokens where id in (
                 select r.id from refresh_tokens r
                  where r.revoked is true
                    and coalesce(r.revoked_at, r.updated_at) < $1 - make_interval(secs => $3)
                    and not exists (select 1 from refresh_tokens l
                                     where l.family_id = r.family_id and l.revoked is not true
                                       and l.expires_at > $1)
                  limit $2)",
            "delete from revoked_access_tokens where jti in (
                 select jti from revoked_access_tokens where expires_at < $1 limit $2)",
        ],
        JobName::Sessions => &[
            // expired sessions, and terminated ones whose refresh row is dead or gone (a
            // terminated session in front of a live row keeps that row from rotating)
            "delete from sessions where id in (
                 select s.id from sessions s
                  where s.expires_at < $1
                     or (s.terminated is true
                         and not exists (select 1 from refresh_tokens r
                                          where r.id = s.refresh_token_id
                                            and r.revoked is not true and r.expires_at > $1))
                  limit $2)",
        ],
        JobName::PasswordResetTokens => &["delete from password_reset_tokens where id in (
                 select id from password_reset_tokens
                  where used is true or expires_at < $1 limit $2)"],
        JobName::EmailVerificationTokens => &["delete from email_verification_tokens where id in (
                 select id from email_verification_tokens
                  where used is true or expires_at < $1 limit $2)"],
    };
    let mut removed: i64 = 0;
    for sql in statements {
        loop {
            let n = run_batch(pool, sql, now).await?;
            removed = removed.saturating_add(i64::try_from(n).unwrap_or(i64::MAX));
            if n < u64::try_from(BATCH).unwrap_or(u64::MAX) {
                break;
            }
        }
    }
    Ok(removed)
}

/// One batch of a cleanup statement: `$1` now, `$2` batch size, and `$3` the dead-family
/// retention for the one statement that reads it.
async fn run_batch(pool: &PgPool, sql: &str, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let mut q = sqlx::query(sql).bind(now).bind(BATCH);
    if sql.contains(RETENTION_PARAM) {
        q = q.bind(DEAD_FAMILY_RETENTION_SECS);
    }
    Ok(q.execute(pool).await?.rows_affected())
}

/// The placeholder of the dead-family retention.
const RETENTION_PARAM: &str = "$3";
