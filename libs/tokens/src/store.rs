//! `refresh_tokens` and `sessions` statements: opening a family, rotating inside it in one
//! conditional statement (ARCHITECTURE §8, contract §5.2, RT-03), revoking a family.
//!
//! Invariant: a family has exactly one session row, and that row's `refresh_token_id` points
//! at the family's newest token. Rotation moves it forward instead of adding a row.
//!
//! `refresh_tokens.revoked` and `sessions.terminated` are nullable in the adopted schema
//! (migration 0001); NULL means false. Every predicate reading them is written `is true` /
//! `is not true` so such rows behave like `false` ones (a plain `= false` would skip them).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::subject::DeviceInfo;

/// `revoked_reason` written by a successful rotation.
pub const REASON_TOKEN_REFRESH: &str = "token_refresh";
/// `revoked_reason` when a rotated token is presented again (§5.2).
pub const REASON_REUSE_DETECTED: &str = "refresh_token_reuse_detected";
/// `revoked_reason` of the idle-timeout policy (§5.2).
pub const REASON_IDLE_TIMEOUT: &str = "refresh_idle_timeout";
/// `revoked_reason` of a single logout (§5.3).
pub const REASON_USER_LOGOUT: &str = "user_logout";

/// The values a new `refresh_tokens` row carries besides user, family and parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefreshRow {
    /// Row id (becomes the refresh token's `jti` and `tid`).
    pub id: Uuid,
    /// SHA-256 hex of the row's random value ([`crate::new_token_hash`]).
    pub token_hash: String,
    /// Expiry (same instant as the token's `exp`).
    pub expires_at: DateTime<Utc>,
    /// Org scope (`organization_id` column).
    pub organization_id: Option<Uuid>,
    /// App scope (`app_id` column).
    pub app_id: Option<Uuid>,
    /// Client IP and user agent.
    pub device: DeviceInfo,
}

/// The row a rotation inserted, and the family's session it moved onto it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RotatedRow {
    /// The new row's id.
    pub id: Uuid,
    /// The (inherited) family id.
    pub family_id: Uuid,
    /// The consumed row's id.
    pub parent_id: Uuid,
    /// The user owning the family.
    pub user_id: Uuid,
    /// The family's session row, now pointing at `id`.
    pub session_id: Uuid,
    /// The new row's expiry.
    pub expires_at: DateTime<Utc>,
}

/// Opens a new family: inserts the root refresh row (its id is also the family id) and the
/// family's session row (`session_id`), in one statement.
pub async fn open_family(
    conn: &mut PgConnection,
    user_id: Uuid,
    row: &NewRefreshRow,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with rt as (
             insert into refresh_tokens
                 (id, user_id, organization_id, token_hash, device_info, ip_address, user_agent,
                  expires_at, revoked, created_at, updated_at, family_id, parent_id, app_id)
             values ($1, $2, $3, $4, $5, $6, $5, $7, false, $8, $8, $1, null, $9)
             returning id, user_id, organization_id, device_info, ip_address, user_agent,
                       expires_at, app_id
         )
         insert into sessions
             (id, user_id, organization_id, refresh_token_id, device_info, ip_address,
              user_agent, last_activity_at, expires_at, terminated, created_at, updated_at,
              app_id)
         select $10, user_id, organization_id, id, device_info, ip_address, user_agent,
                $8, expires_at, false, $8, $8, app_id
           from rt",
    )
    .bind(row.id)
    .bind(user_id)
    .bind(row.organization_id)
    .bind(&row.token_hash)
    .bind(row.device.stored_user_agent())
    .bind(row.device.stored_ip())
    .bind(row.expires_at)
    .bind(now)
    .bind(row.app_id)
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Consumes the live row `old_row_id` and inserts `new_row` as its child (same family,
/// `parent_id` = old row), moving the family's session onto it, in one statement.
///
/// The old row is consumed only when it is not revoked, not expired at `now`, and its session
/// is not terminated. `None` means nothing changed: another rotation won the race, or the
/// row was revoked or expired (the caller re-reads the row to tell reuse from expiry). When
/// the old row has no session (a row adopted from the original server), one is opened.
pub async fn rotate(
    conn: &mut PgConnection,
    old_row_id: Uuid,
    new_row: &NewRefreshRow,
    now: DateTime<Utc>,
) -> Result<Option<RotatedRow>, sqlx::Error> {
    sqlx::query_as::<_, RotatedRow>(ROTATE_SQL)
        .bind(old_row_id)
        .bind(now)
        .bind(new_row.id)
        .bind(new_row.organization_id)
        .bind(&new_row.token_hash)
        .bind(new_row.device.stored_user_agent())
        .bind(new_row.device.stored_ip())
        .bind(new_row.expires_at)
        .bind(new_row.app_id)
        .bind(Uuid::new_v4())
        .fetch_optional(conn)
        .await
}

/// The rotation statement: $1 old id, $2 now, $3 new id, $4 org, $5 hash, $6 user agent,
/// $7 ip, $8 expiry, $9 app, $10 id of a session opened when the old row had none. `$lead`
/// is spliced in front of the first CTE (extra CTEs ending in a comma) and `$cond` into the
/// consuming update's `where` (extra conditions starting with `and`).
macro_rules! rotate_sql {
    ($lead:literal, $cond:literal) => {
        concat!(
            "
with ",
            $lead,
            "
consumed as (
    update refresh_tokens rt
       set revoked = true, revoked_at = $2, revoked_reason = 'token_refresh',
           last_used_at = $2, updated_at = $2
     where rt.id = $1 and rt.revoked is not true and rt.expires_at > $2
       and not exists (select 1 from sessions s
                        where s.refresh_token_id = rt.id and s.terminated is true)",
            $cond,
            "
    returning rt.id, rt.user_id, rt.family_id
),
inserted as (
    insert into refresh_tokens
        (id, user_id, organization_id, token_hash, device_info, ip_address, user_agent,
         expires_at, revoked, created_at, updated_at, family_id, parent_id, app_id)
    select $3, c.user_id, $4, $5, $6, $7, $6, $8, false, $2, $2, c.family_id, c.id, $9
      from consumed c
    returning id, user_id, organization_id, family_id, parent_id, expires_at, app_id
),
moved as (
    update sessions s
       set refresh_token_id = i.id, organization_id = i.organization_id, app_id = i.app_id,
           expires_at = i.expires_at, last_activity_at = $2, updated_at = $2,
           ip_address = coalesce($7, s.ip_address),
           user_agent = coalesce($6, s.user_agent),
           device_info = coalesce($6, s.device_info)
      from inserted i
     where s.refresh_token_id = i.parent_id
    returning s.id
),
opened as (
    insert into sessions
        (id, user_id, organization_id, refresh_token_id, device_info, ip_address, user_agent,
         last_activity_at, expires_at, terminated, created_at, updated_at, app_id)
    select $10, i.user_id, i.organization_id, i.id, $6, $7, $6, $2, i.expires_at, false,
           $2, $2, i.app_id
      from inserted i
     where not exists (select 1 from moved)
    returning id
)
select i.id, i.family_id, i.parent_id, i.user_id, i.expires_at,
       coalesce((select id from moved limit 1), (select id from opened)) as session_id
  from inserted i
"
        )
    };
}

pub(crate) use rotate_sql;

/// The plain rotation (see [`rotate_sql!`] for the parameters).
const ROTATE_SQL: &str = rotate_sql!("", "");

/// Revokes every live row of a family (`reason` as `revoked_reason`) and terminates every
/// session of the family. Returns how many rows it revoked.
///
/// Robust against a rotation committing meanwhile (RT-02, RT-03): a single `update` that
/// waits on a row being rotated re-checks only that row, finds it consumed and never sees
/// the child. So the revocation repeats until a fresh statement sees no live row of the
/// family. Each pass revokes (and locks) every row a rotation could still consume; a new
/// live row can only come from a rotation that was already waiting or committing, so the
/// loop ends as soon as those are done. Sessions are terminated afterwards, by family, when
/// no rotation can move them any more. Run it inside a transaction for atomicity.
pub async fn revoke_family(
    conn: &mut PgConnection,
    family_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut total: u64 = 0;
    loop {
        let revoked = sqlx::query(
            "update refresh_tokens
                set revoked = true, revoked_at = $3, revoked_reason = $2, updated_at = $3
              where family_id = $1 and revoked is not true",
        )
        .bind(family_id)
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        total = total.saturating_add(revoked);
        let live: bool = sqlx::query_scalar(
            "select exists (select 1 from refresh_tokens
                             where family_id = $1 and revoked is not true)",
        )
        .bind(family_id)
        .fetch_one(&mut *conn)
        .await?;
        if !live {
            break;
        }
    }
    sqlx::query(
        "update sessions
            set terminated = true, terminated_at = $2, updated_at = $2
          where terminated is not true
            and refresh_token_id in (select id from refresh_tokens where family_id = $1)",
    )
    .bind(family_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(total)
}
