//! Single-use email tokens: password reset, email verification, magic links. Only a
//! SHA-256 of each token is stored; consuming is one conditional update (first wins).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Stores a password-reset row.
pub async fn insert_reset(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into password_reset_tokens (id, user_id, token_hash, expires_at)
         values ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(user)
    .bind(token_hash)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the reset row used if it is the user's, matches, is unused and unexpired.
pub async fn consume_reset(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    token_hash: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update password_reset_tokens set used = true, used_at = now(), updated_at = now()
          where id = $1 and user_id = $2 and token_hash = $3
            and used is not true and expires_at > now()",
    )
    .bind(id)
    .bind(user)
    .bind(token_hash)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Stores an email-verification row.
pub async fn insert_verification(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    email: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into email_verification_tokens (id, user_id, email, token_hash, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user)
    .bind(email)
    .bind(token_hash)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the verification row used; returns the address it verifies.
pub async fn consume_verification(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    token_hash: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "update email_verification_tokens set used = true, used_at = now(), updated_at = now()
          where id = $1 and user_id = $2 and token_hash = $3
            and used is not true and expires_at > now()
          returning email",
    )
    .bind(id)
    .bind(user)
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

/// A new magic-link row.
#[derive(Clone, Debug)]
pub struct NewMagicLink<'a> {
    /// User.
    pub user: Uuid,
    /// Address it was sent to.
    pub email: &'a str,
    /// SHA-256 hex of the token.
    pub token_hash: &'a str,
    /// App the link logs into.
    pub app_code: Option<&'a str>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Requesting IP.
    pub ip: Option<&'a str>,
    /// Requesting user agent.
    pub user_agent: Option<&'a str>,
}

/// Stores a magic link.
pub async fn insert_magic(
    conn: &mut PgConnection,
    m: &NewMagicLink<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into magic_links (user_id, email, token_hash, app_code, expires_at, ip_address,
                                  user_agent)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.user)
    .bind(m.email)
    .bind(m.token_hash)
    .bind(m.app_code)
    .bind(m.expires_at)
    .bind(m.ip.filter(|ip| ip.len() <= 45))
    .bind(m.user_agent)
    .execute(conn)
    .await?;
    Ok(())
}

/// A consumed magic link.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConsumedMagicLink {
    /// Link id.
    pub id: Uuid,
    /// The user it logs in.
    pub user_id: Uuid,
    /// The address it was sent to.
    pub email: String,
    /// The app it logs into.
    pub app_code: Option<String>,
}

/// Consumes a live magic link in one conditional update (the first caller wins; a
/// concurrent caller waits for the row and then finds it consumed, ML-01).
pub async fn consume_magic(
    conn: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<ConsumedMagicLink>, sqlx::Error> {
    sqlx::query_as(
        "update magic_links set consumed_at = now(), updated_at = now()
          where token_hash = $1 and consumed_at is null and expires_at > now()
          returning id, user_id, email, app_code",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}
