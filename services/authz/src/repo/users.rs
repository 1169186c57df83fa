//! Read-only lookups of `users` (owned by identity; authz only checks existence and reads
//! display fields).

use sqlx::PgConnection;
use uuid::Uuid;

/// Whether a live (not soft-deleted) user exists.
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from users where id = $1 and deleted_at is null)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// A live user's email (as stored) and whether it is verified.
pub async fn email_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(String, bool)>, sqlx::Error> {
    sqlx::query_as(
        "select email, coalesce(email_verified, false) from users
          where id = $1 and deleted_at is null",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}
