//! Client authentication and signing behind `POST /oauth/token`.
//!
//! A grant for a client that authenticated moments ago is served from the in-process
//! [`crate::clients::ClientCache`] (no database round trip); every other path, and every
//! refusal, reads the row once. Every refusal also costs one bcrypt verification (M2M-01).

use std::sync::LazyLock;

use auth_host::Platform;

use super::common::AuditCtx;
use super::oauth::TokenGranted;
use crate::domain::oauth::{self, OAuthFailure, TokenRequest};
use crate::domain::secret::{self, HashKind, SecretKey};
use crate::repo::m2m::{self, Credentials};
use crate::state::Services;
use crate::throttle::THRESHOLD;

/// A stored hash nothing matches (only its HMAC work matters).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| SecretKey::derive("dummy-key-for-unknown-clients").hash("x"));

/// A well-formed bcrypt hash (salt and digest of a published test vector) at `cost`: verifying
/// against it costs what verifying an imported hash of that cost does, and never matches a
/// client secret in practice.
pub fn dummy_bcrypt(cost: u32) -> String {
    format!("$2b${cost:02}$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
}

/// Verifies `secret` against a bcrypt `hash` on the blocking pool.
async fn bcrypt_verify(secret: &str, hash: String) -> anyhow::Result<bool> {
    let secret = secret.to_owned();
    Ok(tokio::task::spawn_blocking(move || bcrypt::verify(secret, &hash).unwrap_or(false)).await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verified {
    Current,
    Rehash,
    No,
}

/// Authenticates the client and signs its token.
///
/// Every refusal costs one database read and one bcrypt verification (M2M-01): the real one
/// for an imported bcrypt hash, otherwise one against [`dummy_bcrypt`] at `BCRYPT_COST`, so an
/// unknown id, a wrong secret (fast or bcrypt hash, cached client or not), an unreadable hash
/// and a revoked client all take the same time. Only a successful fast-hash authentication
/// skips bcrypt, and only a successful one against a cached client skips the database.
pub async fn grant(
    platform: &Platform,
    services: &Services,
    request: &TokenRequest,
) -> anyhow::Result<Result<TokenGranted, OAuthFailure>> {
    // Postgres text cannot hold NUL: such an id cannot exist (§2.7: `invalid_client`).
    let nul = request.client_id.contains('\0');
    if !nul && let Some(entry) = services.clients.get(platform, &request.client_id) {
        if services
            .keys
            .current
            .matches(&entry.creds.client_secret_hash, &request.client_secret)
        {
            if entry.claim_touch() {
                let (db, id) = (platform.db.clone(), entry.creds.id);
                tokio::spawn(async move {
                    if let Err(e) = m2m::touch(&db, id).await {
                        tracing::warn!(error = %e, "could not record m2m client use");
                    }
                });
            }
            return Ok(Ok(sign(platform, request, &entry.creds)?));
        }
        // never refuse on a cached row: the secret may have changed; re-read it
        services.clients.forget(&request.client_id);
    }
    let key = &services.keys.current;
    let epoch = services.clients.epoch();
    let mut paid_bcrypt = false;
    let client = if nul {
        None
    } else {
        m2m::credentials(&platform.db, &request.client_id).await?
    };
    let verified = match &client {
        None => {
            let _ = key.matches(&DUMMY_HASH, &request.client_secret);
            Verified::No
        }
        Some(client) => {
            let stored = client.client_secret_hash.as_str();
            match secret::kind(stored) {
                HashKind::Fast if key.matches(stored, &request.client_secret) => Verified::Current,
                HashKind::Fast => match &services.keys.previous {
                    Some(prev) if prev.matches(stored, &request.client_secret) => Verified::Rehash,
                    _ => Verified::No,
                },
                HashKind::Bcrypt => {
                    paid_bcrypt = true;
                    if bcrypt_verify(&request.client_secret, stored.to_owned()).await? {
                        Verified::Rehash
                    } else {
                        Verified::No
                    }
                }
                HashKind::Unknown => {
                    let _ = key.matches(&DUMMY_HASH, &request.client_secret);
                    Verified::No
                }
            }
        }
    };
    let client = match client {
        Some(c) if verified != Verified::No && c.usable => c,
        _ => {
            if !paid_bcrypt {
                let dummy = dummy_bcrypt(platform.settings.auth.bcrypt_cost);
                let _ = bcrypt_verify(&request.client_secret, dummy).await?;
            }
            return Ok(Err(OAuthFailure::invalid_client(request.basic)));
        }
    };
    if verified == Verified::Rehash {
        // a legacy bcrypt hash (or one under the previous JWT secret) is replaced once
        let stored = client.client_secret_hash.as_str();
        m2m::replace_hash(
            &platform.db,
            client.id,
            stored,
            &key.hash(&request.client_secret),
        )
        .await?;
    }
    if client.stale_use
        && let Err(e) = m2m::touch(&platform.db, client.id).await
    {
        tracing::warn!(error = %e, "could not record m2m client use");
    }
    let granted = sign(platform, request, &client)?;
    if verified == Verified::Current {
        services
            .clients
            .put(platform, &request.client_id, client, epoch);
    }
    Ok(Ok(granted))
}

/// Signs the service token for an authenticated client (scopes per §2.7).
fn sign(
    platform: &Platform,
    request: &TokenRequest,
    client: &Credentials,
) -> anyhow::Result<TokenGranted> {
    let scopes = oauth::grant_scopes(request.scope.as_deref(), &client.scopes);
    let token = platform.signer.sign_service(
        &request.client_id,
        &client.name,
        &scopes,
        platform.signer.access_ttl(),
    )?;
    Ok(TokenGranted {
        access_token: token.token,
        token_type: "Bearer".to_owned(),
        expires_in: token.expires_in,
        expires_at: token.expires_at,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
    })
}

/// One `m2m.token_denied` audit row per refused client authentication, plus one
/// `m2m.client_throttled` when this failure locks the (client id, address) pair (M2M-07).
/// Best effort: the reply is the same whether or not they could be written.
pub async fn audit_denied(platform: &Platform, cx: &AuditCtx, client_id: &str, failures: u64) {
    let write = async {
        let shown: String = client_id
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let mut conn = platform.db.acquire().await?;
        let event = cx
            .event("m2m.token_denied", None)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .resource("m2m_client", None)
            .details(serde_json::json!({"client_id": shown, "failures": failures}));
        auth_bus::enqueue_audit(&mut conn, &event).await?;
        if failures == THRESHOLD {
            let event = cx
                .event("m2m.client_throttled", None)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .resource("m2m_client", None)
                .details(serde_json::json!({"client_id": shown, "failures": failures}));
            auth_bus::enqueue_audit(&mut conn, &event).await?;
        }
        anyhow::Ok(())
    };
    if let Err(e) = write.await {
        tracing::warn!(error = %e, "could not write m2m.token_denied audit event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_bcrypt_hash_is_well_formed_at_any_cost() {
        for cost in [4, 10] {
            let hash = dummy_bcrypt(cost);
            assert_eq!(secret::kind(&hash), HashKind::Bcrypt);
            assert_eq!(bcrypt::verify("anything", &hash).ok(), Some(false));
        }
    }
}
