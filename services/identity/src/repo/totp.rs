//! The TOTP columns of `users` (§5.8): a provisional secret at setup, the confirmation by
//! the first code, and clearing at disable.

use sqlx::PgConnection;
use uuid::Uuid;

/// Stores a new provisional secret: `two_factor_enabled` is true but unconfirmed (§5.8 ⚠),
/// and the replay guard starts over. Only when TOTP is not active (`false`: it is).
pub async fn start_setup(
    conn: &mut PgConnection,
    id: Uuid,
    secret_b32: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update users set two_factor_secret = $2, two_factor_enabled = true,
                two_factor_confirmed_at = null, two_factor_last_step = null, updated_at = now()
          where id = $1 and deleted_at is null
            and not (two_factor_enabled is true and two_factor_confirmed_at is not null
                     and two_factor_secret is not null)",
    )
    .bind(id)
    .bind(secret_b32)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Confirms a pending setup (the first code was right). `false`: nothing pending.
pub async fn confirm(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update users set two_factor_confirmed_at = now(), updated_at = now()
          where id = $1 and two_factor_enabled is true and two_factor_secret is not null
            and two_factor_confirmed_at is null",
    )
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes TOTP: secret, flags and the replay guard.
pub async fn clear(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update users set two_factor_secret = null, two_factor_enabled = false,
                two_factor_confirmed_at = null, two_factor_last_step = null, updated_at = now()
          where id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
