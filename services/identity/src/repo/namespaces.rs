//! Pools (namespaces, §2.11): the overview, a user's home pool and tags.

use sqlx::PgConnection;
use uuid::Uuid;

/// One pool in the overview.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PoolRow {
    /// Pool name.
    pub namespace: String,
    /// Live users whose home pool it is.
    pub home_users: i64,
    /// Live users tagged into it.
    pub tagged_users: i64,
    /// Live users readable in it (home or tag).
    pub total_users: i64,
    /// Live apps that register into or read from it.
    pub app_codes: Vec<String>,
}

/// Every pool that a live user, a tag or a live app names, plus `default`.
pub async fn overview(conn: &mut PgConnection) -> Result<Vec<PoolRow>, sqlx::Error> {
    sqlx::query_as(
        "with names as (
             select namespace as name from users where deleted_at is null
             union select namespace from user_namespaces
             union select registration_namespace from apps
              where deleted_at is null and registration_namespace is not null
             union select unnest(registration_namespaces) from apps where deleted_at is null
             union select unnest(read_namespaces) from apps where deleted_at is null
             union select 'default')
         select n.name as namespace,
                (select count(*) from users u where u.namespace = n.name and u.deleted_at is null)
                    as home_users,
                (select count(*) from user_namespaces un join users u on u.id = un.user_id
                  where un.namespace = n.name and u.deleted_at is null) as tagged_users,
                (select count(*) from users u where u.deleted_at is null
                    and (u.namespace = n.name or exists (select 1 from user_namespaces un
                          where un.user_id = u.id and un.namespace = n.name))) as total_users,
                coalesce((select array_agg(a.code order by a.code) from apps a
                           where a.deleted_at is null
                             and (a.registration_namespace = n.name
                                  or n.name = any(a.registration_namespaces)
                                  or n.name = any(a.read_namespaces))), '{}') as app_codes
           from names n where n.name <> '' order by n.name",
    )
    .fetch_all(conn)
    .await
}

/// The user's tags, sorted.
pub async fn tags(conn: &mut PgConnection, user: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select namespace from user_namespaces where user_id = $1 order by namespace",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

/// Moves the user's home pool (the tag of the new home goes: tags exclude the home pool).
/// A live twin with the same email in that pool violates `users_namespace_email_ci_unique`.
pub async fn set_home(conn: &mut PgConnection, user: Uuid, pool: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update users set namespace = $2, updated_at = now() where id = $1")
        .bind(user)
        .bind(pool)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from user_namespaces where user_id = $1 and namespace = $2")
        .bind(user)
        .bind(pool)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether another live user has `email` in `pool`.
pub async fn email_taken(
    conn: &mut PgConnection,
    user: Uuid,
    email: &str,
    pool: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from users where namespace = $3 and lower(email) = lower($2)
                          and deleted_at is null and id <> $1)",
    )
    .bind(user)
    .bind(email)
    .bind(pool)
    .fetch_one(conn)
    .await
}

/// Tags the user into `pool` (idempotent).
pub async fn add_tag(conn: &mut PgConnection, user: Uuid, pool: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into user_namespaces (user_id, namespace) values ($1, $2) on conflict do nothing",
    )
    .bind(user)
    .bind(pool)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a tag (idempotent).
pub async fn remove_tag(
    conn: &mut PgConnection,
    user: Uuid,
    pool: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from user_namespaces where user_id = $1 and namespace = $2")
        .bind(user)
        .bind(pool)
        .execute(conn)
        .await?;
    Ok(())
}
