//! Writing to the outbox inside the caller's transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::audit::{AuditEvent, is_valid_action};
use crate::error::{BusError, Result};

/// Postgres channel notified after every insert so relays wake at once.
pub const NOTIFY_CHANNEL: &str = "auth_outbox";
/// Topic of rows that move a user's token version forward in the KV bucket.
pub const TOKEN_VERSION_TOPIC: &str = "token_version";
/// Topic of rows that put a `jti` into the revoked bucket.
pub const REVOKED_JTI_TOPIC: &str = "revoked_jti";
/// Largest accepted payload: far below NATS' `max_payload`, so a row can always be sent.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Payload of a [`TOKEN_VERSION_TOPIC`] row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenVersionPayload {
    /// The user.
    pub user_id: Uuid,
    /// The version after the bump.
    pub version: i64,
}

/// Payload of a [`REVOKED_JTI_TOPIC`] row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedJtiPayload {
    /// The access token's `jti`.
    pub jti: String,
    /// The token's `exp`; after it the entry is useless.
    pub expires_at: DateTime<Utc>,
}

/// Where the relay sends a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// JetStream publish on `<prefix><topic>` into the audit stream.
    Audit,
    /// Forward-only put into the token-version bucket.
    TokenVersion,
    /// Put into the revoked-jti bucket.
    RevokedJti,
}

/// The route of a topic, or `None` when no stream or bucket would take it (such rows
/// are refused at enqueue time so they can never clog the relay).
pub(crate) fn route(topic: &str) -> Option<Route> {
    match topic {
        TOKEN_VERSION_TOPIC => Some(Route::TokenVersion),
        REVOKED_JTI_TOPIC => Some(Route::RevokedJti),
        _ => topic
            .strip_prefix("audit.")
            .filter(|action| is_valid_action(action))
            .map(|_| Route::Audit),
    }
}

/// Whether NATS accepts `key` as a key-value key.
pub(crate) fn is_valid_kv_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('.')
        && !key.ends_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_' | b'=' | b'.'))
}

/// Inserts one outbox row with a fresh id, in the caller's transaction, and returns the id.
/// `topic` must be `audit.<action>`, [`TOKEN_VERSION_TOPIC`] or [`REVOKED_JTI_TOPIC`].
pub async fn enqueue(
    conn: &mut PgConnection,
    topic: &str,
    payload: &serde_json::Value,
) -> Result<Uuid> {
    let id = Uuid::new_v4();
    enqueue_with_id(conn, id, topic, payload).await?;
    Ok(id)
}

/// Inserts one outbox row with the given id (it becomes the `Nats-Msg-Id`).
pub async fn enqueue_with_id(
    conn: &mut PgConnection,
    id: Uuid,
    topic: &str,
    payload: &serde_json::Value,
) -> Result<()> {
    let text = serde_json::to_string(payload)?;
    insert(conn, id, topic, text).await
}

/// Inserts the audit event as one outbox row (id = event id, topic `audit.<action>`),
/// in the caller's transaction: it is published only if the transaction commits.
pub async fn enqueue_audit(conn: &mut PgConnection, event: &AuditEvent) -> Result<()> {
    let text = serde_json::to_string(event)?;
    insert(conn, event.id, &event.action.topic(), text).await
}

/// Revokes one access token durably, in the caller's transaction (or atomically on its own
/// when `conn` is not in one): the `revoked_access_tokens` row (the durable record that
/// readers fall back to) and the outbox row from which the relay puts `jti` into the revoked
/// bucket are written together or not at all. Returns the outbox row's id.
///
/// A `jti` that is not a UUID cannot go into `revoked_access_tokens` (its key is `uuid`): such
/// a token gets only the outbox row, hence only the bucket entry (our issuers always mint
/// UUID jtis, so this concerns foreign or legacy tokens). Revoking the same `jti` twice keeps
/// the first record (`on conflict do nothing`) and queues one more idempotent bucket put.
///
/// # Errors
/// [`BusError::InvalidKey`] when `jti` is not a valid bucket key; database errors.
pub async fn enqueue_revoke_jti(
    conn: &mut PgConnection,
    jti: &str,
    user_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
) -> Result<Uuid> {
    if !is_valid_kv_key(jti) {
        return Err(BusError::InvalidKey);
    }
    let payload = RevokedJtiPayload {
        jti: jti.to_owned(),
        expires_at,
    };
    let payload = serde_json::to_string(&payload)?;
    let id = Uuid::new_v4();
    // A savepoint inside the caller's transaction, a transaction of its own otherwise.
    let mut tx = conn.begin().await?;
    if let Ok(jti) = Uuid::try_parse(jti) {
        sqlx::query(
            "insert into revoked_access_tokens (jti, user_id, expires_at) \
             values ($1, $2, $3) on conflict (jti) do nothing",
        )
        .bind(jti)
        .bind(user_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    }
    insert(&mut tx, id, REVOKED_JTI_TOPIC, payload).await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues a token-version move (used by the bump in the same transaction).
pub(crate) async fn enqueue_token_version(
    conn: &mut PgConnection,
    payload: TokenVersionPayload,
) -> Result<()> {
    let text = serde_json::to_string(&payload)?;
    insert(conn, Uuid::new_v4(), TOKEN_VERSION_TOPIC, text).await
}

async fn insert(conn: &mut PgConnection, id: Uuid, topic: &str, payload: String) -> Result<()> {
    if route(topic).is_none() {
        return Err(BusError::InvalidTopic(topic.to_owned()));
    }
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(BusError::PayloadTooLarge {
            size: payload.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    // One round trip: the insert runs as a data-modifying CTE; the notification is
    // delivered (and de-duplicated) at commit, and dropped on rollback.
    sqlx::query(
        "with ins as (insert into outbox (id, topic, payload) values ($1, $2, $3::jsonb)) \
         select pg_notify($4, '')",
    )
    .bind(id)
    .bind(topic)
    .bind(payload)
    .bind(NOTIFY_CHANNEL)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("audit.login.success"), Some(Route::Audit));
        assert_eq!(route("token_version"), Some(Route::TokenVersion));
        assert_eq!(route("revoked_jti"), Some(Route::RevokedJti));
        for bad in ["audit.", "audit.>", "audit.a b", "other.x", "", "audit"] {
            assert_eq!(route(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn kv_keys() {
        assert!(is_valid_kv_key(&Uuid::new_v4().to_string()));
        assert!(is_valid_kv_key("a_b-c=d/e.f"));
        for bad in ["", ".a", "a.", "a b", "a*", "a>"] {
            assert!(!is_valid_kv_key(bad), "{bad:?}");
        }
    }
}
