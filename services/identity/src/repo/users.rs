//! `users` and the rows hanging off a user (base roles, pools).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The pool every user is in unless an app says otherwise.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A `users` row (every column a reply or a rule reads).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Email (stored lower-case).
    pub email: String,
    /// Whether the email was verified.
    pub email_verified: Option<bool>,
    /// Phone.
    pub phone: Option<String>,
    /// Whether the phone was verified.
    pub phone_verified: Option<bool>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// `pending`, `active`, `suspended`, `deleted`.
    pub status: String,
    /// bcrypt hash; `None` for SSO-only accounts.
    pub password_hash: Option<String>,
    /// `local`, `google`, ...
    pub auth_provider: String,
    /// TOTP provisioned (possibly unconfirmed, §5.8 ⚠).
    pub two_factor_enabled: Option<bool>,
    /// TOTP secret (base32).
    pub two_factor_secret: Option<String>,
    /// When TOTP was confirmed with a first code.
    pub two_factor_confirmed_at: Option<DateTime<Utc>>,
    /// Last accepted TOTP step.
    pub two_factor_last_step: Option<i64>,
    /// Consecutive failed logins.
    pub failed_login_attempts: Option<i32>,
    /// Locked until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last password change.
    pub last_password_change: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Free-form metadata.
    pub metadata: Option<serde_json::Value>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
    /// Soft-deleted at.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Home pool.
    pub namespace: String,
    /// Access-token version (`tv`).
    pub token_version: i64,
}

impl UserRow {
    /// TOTP is active: enabled, confirmed and a secret stored (§5.1 step 6).
    #[must_use]
    pub fn totp_active(&self) -> bool {
        self.two_factor_enabled == Some(true)
            && self.two_factor_confirmed_at.is_some()
            && self.two_factor_secret.is_some()
    }

    /// Locked at `now`.
    #[must_use]
    pub fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Soft-deleted (row marker or status).
    #[must_use]
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some() || self.status == "deleted"
    }

    /// What token issuance needs.
    #[must_use]
    pub fn identity(&self) -> auth_tokens::UserIdentity {
        auth_tokens::UserIdentity {
            id: self.id,
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            display_name: self.display_name.clone().unwrap_or_default(),
            auth_provider: self.auth_provider.clone(),
            namespace: self.namespace.clone(),
            token_version: self.token_version,
        }
    }
}

/// Columns of [`UserRow`], for `select {USER_COLUMNS} from users u`.
pub const USER_COLUMNS: &str = "u.id, u.email, u.email_verified, u.phone, u.phone_verified,
    u.first_name, u.last_name, u.display_name, u.avatar_url, u.status, u.password_hash,
    u.auth_provider, u.two_factor_enabled, u.two_factor_secret, u.two_factor_confirmed_at,
    u.two_factor_last_step, u.failed_login_attempts, u.locked_until, u.last_password_change,
    u.last_login_at, u.metadata, u.created_at, u.updated_at, u.deleted_at, u.namespace,
    u.token_version";

/// The user with `email` readable in one of `pools` (home pool or tag); live rows first,
/// then a home-pool match, then the oldest. Soft-deleted rows are returned too (the caller
/// answers 404 for them, §5.1 step 4).
pub async fn find_in_pools(
    conn: &mut PgConnection,
    email: &str,
    pools: &[String],
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u
          where lower(u.email) = $1
            and (u.namespace = any($2)
                 or exists (select 1 from user_namespaces un
                             where un.user_id = u.id and un.namespace = any($2)))
          order by (u.deleted_at is null) desc, (u.namespace = any($2)) desc, u.created_at
          limit 1"
    ))
    .bind(email)
    .bind(pools)
    .fetch_optional(conn)
    .await
}

/// The live user with `email` in any pool (magic link and reset lookups), oldest first.
pub async fn find_live_by_email(
    conn: &mut PgConnection,
    email: &str,
    pools: Option<&[String]>,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u
          where lower(u.email) = $1 and u.deleted_at is null
            and ($2::text[] is null or u.namespace = any($2)
                 or exists (select 1 from user_namespaces un
                             where un.user_id = u.id and un.namespace = any($2)))
          order by (u.namespace = 'default') desc, u.created_at
          limit 1"
    ))
    .bind(email)
    .bind(pools)
    .fetch_optional(conn)
    .await
}

/// The user by id, soft-deleted or not.
pub async fn find_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u where u.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The user by id, locking the row for the rest of the transaction.
pub async fn lock_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u where u.id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Counts a failed login; locks the account for `lockout_secs` when the count reaches
/// `max_attempts` (also when a lock has merely expired, §8). Returns the new count.
pub async fn record_failure(
    conn: &mut PgConnection,
    id: Uuid,
    max_attempts: u32,
    lockout_secs: i64,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "update users
            set failed_login_attempts = coalesce(failed_login_attempts, 0) + 1,
                locked_until = case when coalesce(failed_login_attempts, 0) + 1 >= $2
                                    then now() + make_interval(secs => $3)
                                    else locked_until end,
                updated_at = now()
          where id = $1
          returning failed_login_attempts",
    )
    .bind(id)
    .bind(i64::from(max_attempts))
    .bind(lockout_secs as f64)
    .fetch_one(conn)
    .await
}

/// A successful login: clears the failure counter and lock, stamps `last_login_at`.
pub async fn record_success(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar(
        "update users set failed_login_attempts = 0, locked_until = null,
                last_login_at = now(), updated_at = now()
          where id = $1 returning last_login_at",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Takes TOTP step `step` for the user if it is later than the last one taken (one
/// compare-and-set statement, MFA-05). `false`: replayed or older.
pub async fn take_totp_step(
    conn: &mut PgConnection,
    id: Uuid,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update users set two_factor_last_step = $2
          where id = $1 and (two_factor_last_step is null or two_factor_last_step < $2)",
    )
    .bind(id)
    .bind(step)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Sets a new password hash (and its change stamp).
pub async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update users set password_hash = $2, last_password_change = now(), updated_at = now()
          where id = $1 and deleted_at is null",
    )
    .bind(id)
    .bind(hash)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A new local user.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    /// Normalised email.
    pub email: &'a str,
    /// bcrypt hash.
    pub password_hash: &'a str,
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Phone.
    pub phone: Option<&'a str>,
    /// Home pool.
    pub namespace: &'a str,
}

/// Inserts a pending, unverified local user with the `base_user` role.
pub async fn insert(conn: &mut PgConnection, u: &NewUser<'_>) -> Result<UserRow, sqlx::Error> {
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash, first_name, last_name, display_name, phone,
                            namespace, status, email_verified, auth_provider, last_password_change)
         values ($1, $2, $3, $4, $5, $6, $7, 'pending', false, 'local', now())
         returning id",
    )
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.first_name)
    .bind(u.last_name)
    .bind(u.display_name)
    .bind(u.phone)
    .bind(u.namespace)
    .fetch_one(&mut *conn)
    .await?;
    add_base_role(conn, id, "base_user").await?;
    find_by_id(conn, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// Gives the user a system (non-org) base role by code; unknown codes do nothing.
pub async fn add_base_role(
    conn: &mut PgConnection,
    id: Uuid,
    code: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into user_base_roles (user_id, role_id)
         select $1, r.id from roles r
          where r.code = $2 and r.organization_id is null and r.deleted_at is null
         on conflict (user_id, role_id) do nothing",
    )
    .bind(id)
    .bind(code)
    .execute(conn)
    .await?;
    Ok(())
}

/// Tags the user into `pools` (other than the home pool).
pub async fn tag_pools(
    conn: &mut PgConnection,
    id: Uuid,
    pools: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into user_namespaces (user_id, namespace)
         select $1, p from unnest($2::text[]) p
          where p <> '' and p <> (select namespace from users where id = $1)
         on conflict do nothing",
    )
    .bind(id)
    .bind(pools)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's base role codes.
pub async fn base_role_codes(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select r.code from user_base_roles ub join roles r on r.id = ub.role_id
          where ub.user_id = $1 and r.deleted_at is null order by r.level, r.code",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Marks `email` verified for the user (if it still is the user's address) and moves a
/// pending account to active.
pub async fn mark_verified(
    conn: &mut PgConnection,
    id: Uuid,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update users set email_verified = true,
                status = case when status = 'pending' then 'active' else status end,
                updated_at = now()
          where id = $1 and lower(email) = lower($2)",
    )
    .bind(id)
    .bind(email)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every session and revokes every refresh token of the user (logout-all, §5.3).
pub async fn end_all_sessions(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with revoked as (
             update refresh_tokens set revoked = true, revoked_at = now(),
                    revoked_reason = 'logout_all', updated_at = now()
              where user_id = $1 and revoked is not true
             returning id)
         update sessions set terminated = true, terminated_at = now(), updated_at = now()
          where user_id = $1 and terminated is not true",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// After a password reset: counter and lock cleared, reset stamped.
pub async fn clear_lock_after_reset(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update users set failed_login_attempts = 0, locked_until = null,
                password_reset_at = now(), updated_at = now()
          where id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
