//! User administration reads and writes (§2.10): the filtered list, bulk lookup, base-role
//! names for lists, lockout reset, hard delete.

use sqlx::PgConnection;
use uuid::Uuid;

use super::users::{USER_COLUMNS, UserRow};
use crate::domain::listing::{SortColumn, Window};

/// Filters and order of the admin user list (already validated).
#[derive(Clone, Debug)]
pub struct ListFilter<'a> {
    /// `ILIKE` pattern over email and names.
    pub pattern: Option<&'a str>,
    /// A user status; `None` lists every live user, `deleted` the soft-deleted ones.
    pub status: Option<&'a str>,
    /// Members of this organisation.
    pub organization_id: Option<Uuid>,
    /// Holders of an active grant for this app.
    pub app_id: Option<Uuid>,
    /// Sort column.
    pub column: SortColumn,
    /// Descending.
    pub desc: bool,
    /// Page.
    pub window: Window,
}

const LIST_WHERE: &str = "
    ($1::text is null or u.email ilike $1 or u.first_name ilike $1 or u.last_name ilike $1
        or coalesce(u.display_name, '') ilike $1)
    and (case when $2::text is null then u.deleted_at is null
              when $2 = 'deleted' then u.deleted_at is not null or u.status = 'deleted'
              else u.status = $2 and u.deleted_at is null end)
    and ($3::uuid is null or exists (
        select 1 from organization_members m
         where m.user_id = u.id and m.organization_id = $3 and m.deleted_at is null
           and m.status <> 'removed'))
    and ($4::uuid is null or exists (
        select 1 from user_apps ua where ua.user_id = u.id and ua.app_id = $4 and ua.status = 'active'))";

/// One page of users and the total matching the filters.
pub async fn list(
    conn: &mut PgConnection,
    f: &ListFilter<'_>,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let total: i64 =
        sqlx::query_scalar(&format!("select count(*) from users u where {LIST_WHERE}"))
            .bind(f.pattern)
            .bind(f.status)
            .bind(f.organization_id)
            .bind(f.app_id)
            .fetch_one(&mut *conn)
            .await?;
    let direction = if f.desc { "desc" } else { "asc" };
    let rows = sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u where {LIST_WHERE}
          order by {} {direction} nulls last, u.id {direction}
          limit $5 offset $6",
        f.column.sql()
    ))
    .bind(f.pattern)
    .bind(f.status)
    .bind(f.organization_id)
    .bind(f.app_id)
    .bind(f.window.limit)
    .bind(f.window.offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Base roles (`code`, `name`) of each of `users`, most privileged first.
pub async fn base_roles(
    conn: &mut PgConnection,
    users: &[Uuid],
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select ub.user_id, r.code, r.name from user_base_roles ub join roles r on r.id = ub.role_id
          where ub.user_id = any($1) and r.deleted_at is null order by r.level, r.code",
    )
    .bind(users)
    .fetch_all(conn)
    .await
}

/// Live users by id or (lower-cased) email.
pub async fn lookup(
    conn: &mut PgConnection,
    ids: &[Uuid],
    emails: &[String],
) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u
          where u.deleted_at is null and (u.id = any($1) or lower(u.email) = any($2))
          order by u.created_at, u.id"
    ))
    .bind(ids)
    .bind(emails)
    .fetch_all(conn)
    .await
}

/// Clears the failed-login counter and the lock. `false`: no such user.
pub async fn reset_lockout(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update users set failed_login_attempts = 0, locked_until = null, updated_at = now()
          where id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Physically deletes the user; dependent rows cascade, audit rows stay (no foreign key).
pub async fn hard_delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("delete from users where id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Whether `user` is a live, non-removed member of `org`.
pub async fn is_member(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from organization_members
                         where organization_id = $1 and user_id = $2 and deleted_at is null
                           and status = 'active')",
    )
    .bind(org)
    .bind(user)
    .fetch_one(conn)
    .await
}
