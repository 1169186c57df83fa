//! The TOTP columns of `users` (§5.8): a provisional secret at setup, the confirmation by
//! the first code, re-sealing, and clearing at disable. `two_factor_secret` holds the sealed
//! seed (`domain::totp_seal`), or a legacy plaintext one until its next use.

use sqlx::PgConnection;
use uuid::Uuid;

/// Stores a new provisional (sealed) secret: `two_factor_enabled` is true but unconfirmed (§5.8 ⚠),
/// and the replay guard starts over. Only when TOTP is not active (`false`: it is).
pub async fn start_setup(
    conn: &mut PgConnection,
    id: Uuid,
    sealed: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update users set two_factor_secret = $2, two_factor_enabled = true,
                two_factor_confirmed_at = null, two_factor_last_step = null, updated_at = now()
          where id = $1 and deleted_at is null
            and not (two_factor_enabled is true and two_factor_confirmed_at is not null
                     and two_factor_secret is not null)",
    )
    .bind(id)
    .bind(sealed)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Replaces the stored seed `old` by its re-sealed form (nothing when it changed meanwhile).
pub async fn reseal(
    conn: &mut PgConnection,
    id: Uuid,
    old: &str,
    sealed: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set two_factor_secret = $3 where id = $1 and two_factor_secret = $2")
        .bind(id)
        .bind(old)
        .bind(sealed)
        .execute(conn)
        .await?;
    Ok(())
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
