//! SSO links (`user_auth_providers`, unique per `(provider, provider_user_id)`), SSO-created
//! users, and the app's redirect allowlist.

use sqlx::PgConnection;
use uuid::Uuid;

use super::users::{self, UserRow};

/// The user linked to `(provider, subject)`.
pub async fn linked_user(
    conn: &mut PgConnection,
    provider: &str,
    subject: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select user_id from user_auth_providers where provider = $1 and provider_user_id = $2",
    )
    .bind(provider)
    .bind(subject)
    .fetch_optional(conn)
    .await
}

/// Links `(provider, subject)` to the user; false when the user already has another
/// identity of that provider, or the identity is linked elsewhere (nothing written).
pub async fn link(
    conn: &mut PgConnection,
    user: Uuid,
    provider: &str,
    subject: &str,
    data: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "insert into user_auth_providers (user_id, provider, provider_user_id, provider_data)
         values ($1, $2, $3, $4)
         on conflict do nothing",
    )
    .bind(user)
    .bind(provider)
    .bind(subject)
    .bind(data)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A user created from a provider's identity.
#[derive(Clone, Debug)]
pub struct NewSsoUser<'a> {
    /// Normalised email.
    pub email: &'a str,
    /// Whether the provider verified it (then the user starts `active`).
    pub email_verified: bool,
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Avatar URL.
    pub avatar_url: Option<&'a str>,
    /// `users.auth_provider` (`google`, ..., `custom`).
    pub auth_provider: &'a str,
    /// Key at the provider.
    pub provider_user_id: &'a str,
    /// Home pool.
    pub namespace: &'a str,
}

/// Inserts a password-less user with the `base_user` role.
pub async fn insert_user(
    conn: &mut PgConnection,
    u: &NewSsoUser<'_>,
) -> Result<UserRow, sqlx::Error> {
    let status = if u.email_verified {
        "active"
    } else {
        "pending"
    };
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, display_name, avatar_url, namespace,
                            status, email_verified, auth_provider, provider_user_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         returning id",
    )
    .bind(u.email)
    .bind(u.first_name)
    .bind(u.last_name)
    .bind(u.display_name)
    .bind(u.avatar_url)
    .bind(u.namespace)
    .bind(status)
    .bind(u.email_verified)
    .bind(u.auth_provider)
    .bind(u.provider_user_id)
    .fetch_one(&mut *conn)
    .await?;
    users::add_base_role(conn, id, "base_user").await?;
    users::find_by_id(conn, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// The app's `allowed_redirect_urls`.
pub async fn app_redirects(conn: &mut PgConnection, app: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select allowed_redirect_urls from apps where id = $1")
        .bind(app)
        .fetch_optional(conn)
        .await
        .map(Option::unwrap_or_default)
}
