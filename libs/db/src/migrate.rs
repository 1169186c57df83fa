//! The migration set embedded in every binary, and running it.

use sqlx::PgPool;

use crate::DbError;

/// The workspace's `migrations/` directory, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Apply every migration not yet applied. sqlx holds a Postgres advisory lock meanwhile, so
/// several processes starting at once apply each file exactly once; an already migrated
/// database is a no-op. Fails if an applied file was edited (checksum mismatch).
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}
