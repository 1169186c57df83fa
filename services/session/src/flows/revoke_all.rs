//! Logout-all and admin revoke-sessions (contract §5.3): every session and refresh token of
//! a user ends and the token version moves forward, so every outstanding access token is
//! refused on every replica.

use auth_bus::{AuditAction, BusError, TokenVersionMirror};
use auth_edge::{ApiError, ErrorCode};
use auth_host::{Platform, RedisTokenVersionMirror};
use uuid::Uuid;

use crate::error::internal;
use crate::flows::common::{Client, Now};
use crate::repo::tokens::{Ended, REASON_LOGOUT_ALL, revoke_all_for_user};

/// Ends everything of `subject` on behalf of `actor`, in one transaction: the token-version
/// bump first (it locks the user row, so a rotation in flight either commits before and its
/// new row is revoked below, or fails its version guard), then the refresh rows and
/// sessions, then the `logout.all` audit event. After commit the new version goes to the
/// NATS bucket and the Redis mirror (the outbox relay retries both if that fails).
pub async fn revoke_all(
    platform: &Platform,
    subject: Uuid,
    actor: Uuid,
    client: &Client,
) -> Result<Ended, ApiError> {
    let now = Now::read(platform).map_err(internal)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let bump = match auth_bus::bump_token_version_in_tx(&mut tx, subject).await {
        Ok(bump) => bump,
        Err(BusError::UserNotFound(_)) => {
            return Err(ApiError::new(ErrorCode::UserNotFound, "User not found"));
        }
        Err(e) => return Err(internal(e)),
    };
    let ended = revoke_all_for_user(&mut tx, subject, REASON_LOGOUT_ALL, now.at)
        .await
        .map_err(internal)?;
    let event = client
        .event(AuditAction::LOGOUT_ALL, now.at)
        .actor(actor)
        .resource("user", Some(subject))
        .details(serde_json::json!({
            "sessions_terminated": ended.sessions,
            "refresh_tokens_revoked": ended.refresh_tokens,
            "token_version": bump.version,
        }))
        .subject_user(subject);
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;

    let mirror = RedisTokenVersionMirror::new(platform.cache.clone());
    bump.publish_after_commit(
        Some(&platform.bus),
        Some(&mirror as &dyn TokenVersionMirror),
    )
    .await;
    Ok(ended)
}
