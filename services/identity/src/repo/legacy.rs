//! Users carried over from a legacy identity store (the Cognito bridge, contract §7.5): the
//! new `users` row and its link to the legacy account in `user_auth_providers`.

use sqlx::PgConnection;
use uuid::Uuid;

use super::users::{self, UserRow};

/// The `user_auth_providers.provider` of a link to a Cognito account.
pub const COGNITO_PROVIDER: &str = "cognito";

/// A user coming over from the legacy store.
#[derive(Clone, Debug)]
pub struct MigratedUser<'a> {
    /// Normalised email.
    pub email: &'a str,
    /// bcrypt hash of the password the legacy store just accepted; `None` when the account
    /// must go through the password reset first (MIG-04, MIG-06).
    pub password_hash: Option<&'a str>,
    /// Whether the legacy store had the email verified (MIG-07).
    pub email_verified: bool,
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Phone.
    pub phone: Option<&'a str>,
    /// Home pool.
    pub namespace: &'a str,
}

/// Inserts the user: `active` when the email is verified and a password carried over,
/// `pending` otherwise; `auth_provider` stays `local` (the password now lives here) and
/// every migrated user gets `base_user`.
pub async fn insert_user(
    conn: &mut PgConnection,
    u: &MigratedUser<'_>,
) -> Result<UserRow, sqlx::Error> {
    let status = if u.email_verified && u.password_hash.is_some() {
        "active"
    } else {
        "pending"
    };
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash, first_name, last_name, phone, namespace,
                            status, email_verified, auth_provider, last_password_change,
                            metadata)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'local',
                 case when $2::text is null then null else now() end,
                 jsonb_build_object('migrated_from', 'cognito'))
         returning id",
    )
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.first_name)
    .bind(u.last_name)
    .bind(u.phone)
    .bind(u.namespace)
    .bind(status)
    .bind(u.email_verified)
    .fetch_one(&mut *conn)
    .await?;
    users::add_base_role(conn, id, "base_user").await?;
    users::find_by_id(conn, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Keeps the legacy account id (the Cognito `sub`) on the user: a `user_auth_providers`
/// row `(user, 'cognito', sub)` with the legacy username and groups as `provider_data`.
/// A second user for the same `sub` violates `provider_user_unique`.
pub async fn link(
    conn: &mut PgConnection,
    user: Uuid,
    legacy_id: &str,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into user_auth_providers (user_id, provider, provider_user_id, provider_data)
         values ($1, $2, $3, $4)",
    )
    .bind(user)
    .bind(COGNITO_PROVIDER)
    .bind(legacy_id)
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}

/// The Cognito `sub` the user was migrated from, if any.
pub async fn legacy_id(conn: &mut PgConnection, user: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select provider_user_id from user_auth_providers where user_id = $1 and provider = $2",
    )
    .bind(user)
    .bind(COGNITO_PROVIDER)
    .fetch_optional(conn)
    .await
}
