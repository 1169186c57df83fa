//! Revoking refresh tokens and sessions outside rotation: logout (one row) and logout-all
//! (every row of a user).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// `revoked_reason` of rows ended by logout-all and admin revoke-sessions.
pub const REASON_LOGOUT_ALL: &str = "logout_all";
/// `revoked_reason` of a family ended by terminating its session.
pub const REASON_SESSION_TERMINATED: &str = "session_terminated";

/// Revokes the live row `row_id` of `user_id` (reason `user_logout`) and terminates the
/// session pointing at it. Returns how many rows it revoked (0 for an unknown, foreign or
/// already revoked row).
pub async fn revoke_for_logout(
    conn: &mut PgConnection,
    row_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let revoked: i64 = sqlx::query_scalar(
        "with revoked as (
             update refresh_tokens
                set revoked = true, revoked_at = $3, revoked_reason = $4, updated_at = $3
              where id = $1 and user_id = $2 and revoked is not true
             returning id
         ),
         ended as (
             update sessions s
                set terminated = true, terminated_at = $3, updated_at = $3
               from revoked r
              where s.refresh_token_id = r.id and s.terminated is not true
             returning s.id
         )
         select count(*) from revoked",
    )
    .bind(row_id)
    .bind(user_id)
    .bind(now)
    .bind(auth_tokens::store::REASON_USER_LOGOUT)
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(revoked).unwrap_or(0))
}

/// What logout-all ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// Refresh rows revoked.
    pub refresh_tokens: u64,
    /// Sessions terminated.
    pub sessions: u64,
}

/// Revokes every live refresh row of `user_id` and terminates every session, refresh rows
/// first (the order every other writer locks them in).
pub async fn revoke_all_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Ended> {
    let tokens = sqlx::query(
        "update refresh_tokens
            set revoked = true, revoked_at = $3, revoked_reason = $2, updated_at = $3
          where user_id = $1 and revoked is not true",
    )
    .bind(user_id)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let sessions = sqlx::query(
        "update sessions set terminated = true, terminated_at = $2, updated_at = $2
          where user_id = $1 and terminated is not true",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(Ended {
        refresh_tokens: tokens,
        sessions,
    })
}
