//! SQL over `permissions`: the registry reconcile (upsert and prune one service's slice).

use sqlx::PgConnection;

use crate::domain::permissions::NewPermission;

/// Codes in `codes` that belong to another service.
pub async fn foreign_codes(
    conn: &mut PgConnection,
    service: &str,
    codes: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select code from permissions where code = any($1) and service <> $2 order by code",
    )
    .bind(codes)
    .bind(service)
    .fetch_all(conn)
    .await
}

/// Serialises registrations of one service (transaction-scoped advisory lock).
pub async fn lock_service(conn: &mut PgConnection, service: &str) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtext('authz.permissions:' || $1))")
        .bind(service)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Inserts or updates `list` as `service`'s permissions; returns how many rows were written
/// (a code owned by another service is left alone and not counted).
pub async fn upsert(
    conn: &mut PgConnection,
    service: &str,
    list: &[NewPermission],
) -> Result<u64, sqlx::Error> {
    let col = |f: fn(&NewPermission) -> Option<String>| list.iter().map(f).collect::<Vec<_>>();
    let done = sqlx::query(
        "insert into permissions (code, name, description, resource, action, category, service)
         select c, n, d, r, a, cat, $7
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                as t(c, n, d, r, a, cat)
         on conflict (code) do update
            set name = excluded.name, description = excluded.description,
                resource = excluded.resource, action = excluded.action,
                category = excluded.category, updated_at = now()
          where permissions.service = excluded.service",
    )
    .bind(col(|p| Some(p.code.clone())))
    .bind(col(|p| Some(p.name.clone())))
    .bind(col(|p| p.description.clone()))
    .bind(col(|p| Some(p.resource.clone())))
    .bind(col(|p| Some(p.action.clone())))
    .bind(col(|p| p.category.clone()))
    .bind(service)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The users holding (as a base role or through a live membership) a role that grants one of
/// `service`'s permissions not in `keep`: the holders whose tokens a prune changes (§9.6).
pub async fn holders_of_pruned(
    conn: &mut PgConnection,
    service: &str,
    keep: &[String],
) -> Result<Vec<uuid::Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "with roles_hit as (
             select distinct rp.role_id from role_permissions rp
               join permissions p on p.id = rp.permission_id
              where p.service = $1 and p.code <> all($2))
         select ubr.user_id from user_base_roles ubr
          where ubr.role_id in (select role_id from roles_hit)
         union
         select m.user_id from organization_member_roles omr
           join organization_members m on m.id = omr.membership_id and m.deleted_at is null
          where omr.role_id in (select role_id from roles_hit)
         order by 1",
    )
    .bind(service)
    .bind(keep)
    .fetch_all(conn)
    .await
}

/// Deletes `service`'s permissions not in `keep` (grants cascade out of roles); returns the
/// pruned codes.
pub async fn prune(
    conn: &mut PgConnection,
    service: &str,
    keep: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut codes: Vec<String> = sqlx::query_scalar(
        "delete from permissions where service = $1 and code <> all($2) returning code",
    )
    .bind(service)
    .bind(keep)
    .fetch_all(conn)
    .await?;
    codes.sort();
    Ok(codes)
}
