//! Idempotent inserts of consumed events (the chain columns are filled by the insert trigger).

use sqlx::PgPool;

use crate::domain::record::AuditRecord;

/// Inserts `records` in one statement, in order; rows whose event id is already stored are
/// skipped (`on conflict (event_id) do nothing`). Returns how many rows were new. The statement
/// commits on its own, so once this returns `Ok` every record is stored.
pub async fn insert_batch(db: &PgPool, records: &[AuditRecord]) -> Result<u64, sqlx::Error> {
    if records.is_empty() {
        return Ok(0);
    }
    let n = records.len();
    let mut ids = Vec::with_capacity(n);
    let mut users = Vec::with_capacity(n);
    let mut orgs = Vec::with_capacity(n);
    let mut actions = Vec::with_capacity(n);
    let mut resource_types = Vec::with_capacity(n);
    let mut resource_ids = Vec::with_capacity(n);
    let mut ips = Vec::with_capacity(n);
    let mut agents = Vec::with_capacity(n);
    let mut details = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    for r in records {
        ids.push(r.id);
        users.push(r.user_id);
        orgs.push(r.organization_id);
        actions.push(r.action.as_str());
        resource_types.push(r.resource_type.as_deref());
        resource_ids.push(r.resource_id);
        ips.push(r.ip_address.as_deref());
        agents.push(r.user_agent.as_deref());
        details.push(r.details.as_deref());
        times.push(r.created_at);
    }
    let done = sqlx::query(
        "insert into audit_log (id, event_id, user_id, organization_id, action, resource_type,
                                resource_id, ip_address, user_agent, details, created_at)
         select e.id, e.id, e.user_id, e.organization_id, e.action, e.resource_type,
                e.resource_id, e.ip_address, e.user_agent, e.details::jsonb, e.created_at
         from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[],
                     $7::text[], $8::text[], $9::text[], $10::timestamptz[])
              with ordinality as e(id, user_id, organization_id, action, resource_type,
                                   resource_id, ip_address, user_agent, details, created_at, n)
         order by e.n
         on conflict (event_id) do nothing",
    )
    .bind(&ids)
    .bind(&users)
    .bind(&orgs)
    .bind(&actions)
    .bind(&resource_types)
    .bind(&resource_ids)
    .bind(&ips)
    .bind(&agents)
    .bind(&details)
    .bind(&times)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
