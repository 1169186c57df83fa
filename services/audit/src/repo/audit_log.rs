//! SQL over `audit_log`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// One audit row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// Row id.
    pub id: Uuid,
    /// The actor.
    pub user_id: Option<Uuid>,
    /// The organisation concerned.
    pub organization_id: Option<Uuid>,
    /// Event name (contract §7.3).
    pub action: String,
    /// Kind of the resource acted on.
    pub resource_type: Option<String>,
    /// Id of the resource acted on.
    pub resource_id: Option<Uuid>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Event details.
    pub details: Option<serde_json::Value>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// Filters of `GET /admin/audit-log`; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exact action name.
    pub action: Option<String>,
    /// Actor.
    pub user_id: Option<Uuid>,
    /// Organisation.
    pub organization_id: Option<Uuid>,
    /// Inclusive lower bound of `created_at`.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive upper bound of `created_at`.
    pub until: Option<DateTime<Utc>>,
}

const WHERE: &str = "where ($1::text is null or action = $1)
      and ($2::uuid is null or user_id = $2)
      and ($3::uuid is null or organization_id = $3)
      and ($4::timestamptz is null or created_at >= $4)
      and ($5::timestamptz is null or created_at < $5)";

/// One page of matching rows, newest first, and the total number of matches.
pub async fn list(
    db: &PgPool,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let rows_sql = format!(
        "select id, user_id, organization_id, action, resource_type, resource_id, ip_address,
                user_agent, details, created_at
         from audit_log {WHERE} order by created_at desc, id desc limit $6 offset $7"
    );
    let rows = sqlx::query_as::<_, AuditRow>(&rows_sql)
        .bind(&filter.action)
        .bind(filter.user_id)
        .bind(filter.organization_id)
        .bind(filter.since)
        .bind(filter.until)
        .bind(limit)
        .bind(offset)
        .fetch_all(db)
        .await?;
    let count_sql = format!("select count(*) from audit_log {WHERE}");
    let total: i64 = sqlx::query_scalar(&count_sql)
        .bind(&filter.action)
        .bind(filter.user_id)
        .bind(filter.organization_id)
        .bind(filter.since)
        .bind(filter.until)
        .fetch_one(db)
        .await?;
    Ok((rows, total))
}

/// One row of the NDJSON export: the listed fields plus the chain columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    /// Position in the chain.
    pub seq: i64,
    /// Outbox event id (absent on rows written by the original server or the retention job).
    pub event_id: Option<Uuid>,
    /// The listed fields.
    #[sqlx(flatten)]
    pub row: AuditRow,
    /// The previous row's hash.
    pub prev_hash: Vec<u8>,
    /// This row's hash.
    pub hash: Vec<u8>,
}

/// Up to `limit` rows with `seq > after_seq` and `since <= created_at < until`, in chain order
/// (keyset pagination for a streamed export).
pub async fn export_page(
    db: &PgPool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    sqlx::query_as::<_, ExportRow>(
        "select seq, event_id, id, user_id, organization_id, action, resource_type, resource_id,
                ip_address, user_agent, details, created_at, prev_hash, hash
         from audit_log
         where seq > $1
           and ($2::timestamptz is null or created_at >= $2)
           and ($3::timestamptz is null or created_at < $3)
         order by seq limit $4",
    )
    .bind(after_seq)
    .bind(since)
    .bind(until)
    .bind(limit)
    .fetch_all(db)
    .await
}
