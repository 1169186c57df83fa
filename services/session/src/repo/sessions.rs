//! `sessions` reads and the termination of one session with its refresh family.

use auth_tokens::revoke_family;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A live session as listed (contract §2.2 `SessionRecord`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// Session id.
    pub id: Uuid,
    /// Raw user agent of the device.
    pub device_info: Option<String>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Location, when known.
    pub location: Option<String>,
    /// Last refresh (or login).
    pub last_activity_at: DateTime<Utc>,
    /// Login time.
    pub created_at: DateTime<Utc>,
}

/// The user's sessions that are neither terminated nor expired at `now`, newest activity
/// first.
pub async fn list_live(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<SessionRow>> {
    sqlx::query_as(
        "select id, device_info, ip_address, user_agent, location, last_activity_at, created_at
           from sessions
          where user_id = $1 and terminated is not true and expires_at > $2
          order by last_activity_at desc, created_at desc, id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Who a session belongs to and which family stands behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionOwner {
    /// The owner.
    pub user_id: Uuid,
    /// The family of the session's refresh token (`None` if the row is gone).
    pub family_id: Option<Uuid>,
}

/// The owner and family of session `id`, if it exists.
pub async fn find_owner(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<SessionOwner>> {
    sqlx::query_as(
        "select s.user_id, r.family_id
           from sessions s left join refresh_tokens r on r.id = s.refresh_token_id
          where s.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Terminates session `id` and revokes its whole family (`reason`), in the caller's
/// transaction. Returns how many refresh rows were revoked.
pub async fn terminate(
    conn: &mut PgConnection,
    owner: &SessionOwner,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let revoked = match owner.family_id {
        Some(family) => revoke_family(&mut *conn, family, reason, now).await?,
        None => 0,
    };
    sqlx::query(
        "update sessions set terminated = true, terminated_at = $2, updated_at = $2
          where id = $1 and terminated is not true",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(revoked)
}
