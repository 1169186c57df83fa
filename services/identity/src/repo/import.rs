//! Bulk import of users with existing password hashes (`POST /admin/users/bulk-import`).

use sqlx::PgConnection;
use uuid::Uuid;

/// One row to write (already validated).
#[derive(Clone, Debug)]
pub struct ImportRow<'a> {
    /// Normalised email.
    pub email: &'a str,
    /// A bcrypt hash.
    pub password_hash: &'a str,
    /// First name (`None`: keep, or empty for new users).
    pub first_name: Option<&'a str>,
    /// Last name.
    pub last_name: Option<&'a str>,
    /// Home pool.
    pub namespace: &'a str,
    /// Metadata object (merged into the existing one on update).
    pub metadata: Option<&'a serde_json::Value>,
}

/// The live user with this email in the row's pool.
pub async fn existing(
    conn: &mut PgConnection,
    row: &ImportRow<'_>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select id from users where namespace = $1 and lower(email) = $2 and deleted_at is null",
    )
    .bind(row.namespace)
    .bind(row.email)
    .fetch_optional(conn)
    .await
}

/// Inserts an active, local user with the imported hash; returns its id.
pub async fn insert(conn: &mut PgConnection, row: &ImportRow<'_>) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into users (email, password_hash, first_name, last_name, namespace, metadata,
                            status, email_verified, auth_provider, last_password_change)
         values ($1, $2, coalesce($3, ''), coalesce($4, ''), $5, $6, 'active', false, 'local', now())
         returning id",
    )
    .bind(row.email)
    .bind(row.password_hash)
    .bind(row.first_name)
    .bind(row.last_name)
    .bind(row.namespace)
    .bind(row.metadata)
    .fetch_one(conn)
    .await
}

/// Overwrites the hash (and the given names), merges metadata.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    row: &ImportRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update users set password_hash = $2, first_name = coalesce($3, first_name),
                last_name = coalesce($4, last_name),
                metadata = case when $5::jsonb is null then metadata
                                else coalesce(metadata, '{}'::jsonb) || $5::jsonb end,
                last_password_change = now(), updated_at = now()
          where id = $1",
    )
    .bind(id)
    .bind(row.password_hash)
    .bind(row.first_name)
    .bind(row.last_name)
    .bind(row.metadata)
    .execute(conn)
    .await?;
    Ok(())
}
