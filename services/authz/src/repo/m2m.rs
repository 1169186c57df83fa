//! SQL over `m2m_clients`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// An `m2m_clients` row as the admin API shows it (never the hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    /// Row id.
    pub id: Uuid,
    /// The OAuth `client_id`.
    pub client_id: String,
    /// Display name (`service_name` claim).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Scopes the client may be granted.
    pub scopes: Vec<String>,
    /// Audiences recorded for the client.
    pub allowed_audiences: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// Last successful token grant (minute precision).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The admin who registered it.
    pub created_by: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, client_id, name, description, scopes, allowed_audiences, status, \
                       last_used_at, revoked_at, created_by, created_at, updated_at";

/// A new client.
#[derive(Debug, Clone)]
pub struct NewClient<'a> {
    /// The OAuth `client_id`.
    pub client_id: &'a str,
    /// The stored secret hash.
    pub secret_hash: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Free text.
    pub description: Option<&'a str>,
    /// Scopes.
    pub scopes: &'a [String],
    /// Audiences.
    pub allowed_audiences: &'a [String],
    /// The registering admin (dropped when no such user row exists).
    pub created_by: Uuid,
}

/// Inserts a client; a taken `client_id` fails with `m2m_clients_client_id_key`.
pub async fn insert(conn: &mut PgConnection, c: &NewClient<'_>) -> Result<ClientRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into m2m_clients (client_id, client_secret_hash, name, description, scopes,
                                  allowed_audiences, created_by)
         values ($1, $2, $3, $4, $5, $6, (select id from users where id = $7))
         returning {COLUMNS}"
    ))
    .bind(c.client_id)
    .bind(c.secret_hash)
    .bind(c.name)
    .bind(c.description)
    .bind(c.scopes)
    .bind(c.allowed_audiences)
    .bind(c.created_by)
    .fetch_one(conn)
    .await
}

/// Non-revoked clients, newest first.
pub async fn list(db: &PgPool) -> Result<Vec<ClientRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from m2m_clients where revoked_at is null order by created_at desc, id"
    ))
    .fetch_all(db)
    .await
}

/// One client by row id (revoked ones included).
pub async fn get(db: &PgPool, id: Uuid) -> Result<Option<ClientRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from m2m_clients where id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Revokes a live client; returns its `client_id`, or `None` when unknown or revoked.
pub async fn revoke(conn: &mut PgConnection, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "update m2m_clients set revoked_at = now(), status = 'disabled', updated_at = now()
          where id = $1 and revoked_at is null
          returning client_id",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// What the token endpoint reads about a client.
#[derive(Clone, sqlx::FromRow)]
pub struct Credentials {
    /// Row id.
    pub id: Uuid,
    /// Stored secret hash.
    pub client_secret_hash: String,
    /// Display name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Whether the client may get tokens (active and not revoked).
    pub usable: bool,
    /// Whether `last_used_at` is older than a minute (or unset).
    pub stale_use: bool,
}

/// The credentials of `client_id`, in one round trip.
pub async fn credentials(db: &PgPool, client_id: &str) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as(
        "select id, client_secret_hash, name, scopes,
                (status = 'active' and revoked_at is null) as usable,
                (last_used_at is null or last_used_at < now() - interval '1 minute') as stale_use
           from m2m_clients where client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(db)
    .await
}

/// Records a successful use.
pub async fn touch(db: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update m2m_clients set last_used_at = now() where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Replaces the stored hash (legacy bcrypt or old key) unless it changed meanwhile.
pub async fn replace_hash(
    db: &PgPool,
    id: Uuid,
    old: &str,
    new: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update m2m_clients set client_secret_hash = $3, updated_at = now()
          where id = $1 and client_secret_hash = $2",
    )
    .bind(id)
    .bind(old)
    .bind(new)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}
