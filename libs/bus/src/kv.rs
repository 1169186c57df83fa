//! Key-value writes: forward-only token versions and revoked `jti`s.

use std::time::Duration;

use async_nats::jetstream::kv::{self, Operation, UpdateErrorKind};
use bytes::Bytes;
use uuid::Uuid;

use crate::config::REVOCATION_LEEWAY;
use crate::connection::Bus;
use crate::error::{BusError, Result};
use crate::outbox::is_valid_kv_key;

/// How often a revision-checked update is retried when writers race on one key.
const MAX_CAS_ATTEMPTS: usize = 32;

/// What a forward-only put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvOutcome {
    /// The key now holds the given version.
    Applied,
    /// The key already held this version or a newer one; nothing was written.
    AlreadyCurrent,
}

/// Moves `user_id`'s entry in the token-version bucket to `version`, never backwards:
/// reads the current entry and writes with a revision check, retrying on a race.
pub async fn put_token_version(bus: &Bus, user_id: Uuid, version: i64) -> Result<KvOutcome> {
    if !bus.is_connected() {
        return Err(BusError::NotConnected);
    }
    let store = &bus.topology().await?.token_versions;
    put_forward(store, &user_id.to_string(), version).await
}

/// The forward-only compare-and-set loop on one key.
pub(crate) async fn put_forward(store: &kv::Store, key: &str, version: i64) -> Result<KvOutcome> {
    let value = Bytes::from(version.to_string());
    for _ in 0..MAX_CAS_ATTEMPTS {
        let entry = store
            .entry(key)
            .await
            .map_err(|e| BusError::nats("read token version", e))?;
        let revision = match entry {
            Some(e) if e.operation == Operation::Put => {
                let current = std::str::from_utf8(&e.value)
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok());
                if current.is_some_and(|c| c >= version) {
                    return Ok(KvOutcome::AlreadyCurrent);
                }
                e.revision
            }
            Some(e) => e.revision,
            None => 0,
        };
        match store.update(key, value.clone(), revision).await {
            Ok(_) => return Ok(KvOutcome::Applied),
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => continue,
            Err(e) => return Err(BusError::nats("write token version", e)),
        }
    }
    Err(BusError::nats(
        "write token version",
        "too many concurrent writers on one key",
    ))
}

/// Puts `jti` into the revoked bucket now. The bucket forgets entries after the
/// access-token lifetime plus leeway; `ttl` (the token's remaining life) only
/// short-circuits already-expired tokens and is checked against that bound.
pub async fn revoke_jti(bus: &Bus, jti: &str, ttl: Duration) -> Result<()> {
    if !is_valid_kv_key(jti) {
        return Err(BusError::InvalidKey);
    }
    if ttl.is_zero() {
        return Ok(());
    }
    if ttl > bus.config().access_token_ttl + REVOCATION_LEEWAY {
        tracing::warn!(
            ttl_secs = ttl.as_secs(),
            "revoked jti outlives the revoked_jti bucket's max_age"
        );
    }
    if !bus.is_connected() {
        return Err(BusError::NotConnected);
    }
    put_revoked(&bus.topology().await?.revoked_jti, jti).await
}

/// Plain put of a revoked `jti` (re-putting is harmless).
pub(crate) async fn put_revoked(store: &kv::Store, jti: &str) -> Result<()> {
    store
        .put(jti, Bytes::from_static(b"1"))
        .await
        .map_err(|e| BusError::nats("put revoked jti", e))?;
    Ok(())
}
