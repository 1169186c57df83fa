//! The crate's error type and helpers that classify database errors by constraint name.

/// What can go wrong while configuring, connecting to or migrating the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The settings cannot describe a connection (bad URL, unknown sslmode...). The message
    /// never contains the password.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// Applying the migration set failed (including a checksum mismatch on an edited file).
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// Name of the unique constraint (or unique index) a statement violated, if that is what
/// `err` is. Map it to a 409 code by name, e.g. `users_namespace_email_ci_unique` or
/// `users_namespace_email_unique` to `USER_ALREADY_EXISTS`.
pub fn unique_violation(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}

/// Name of the foreign key a statement violated (a referenced row is missing), if that is
/// what `err` is.
pub fn foreign_key_violation(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => db.constraint(),
        _ => None,
    }
}
