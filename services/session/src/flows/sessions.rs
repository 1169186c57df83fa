//! Listing and terminating sessions (contract §2.2).

use auth_bus::AuditAction;
use auth_edge::ApiError;
use auth_host::Platform;
use uuid::Uuid;

use crate::error::internal;
use crate::flows::common::{Client, Now, put_revoked_now};
use crate::repo::sessions::{self, SessionRow};
use crate::repo::tokens::REASON_SESSION_TERMINATED;

/// The user's live sessions, newest activity first.
pub async fn list(platform: &Platform, user_id: Uuid) -> Result<Vec<SessionRow>, ApiError> {
    let now = Now::read(platform).map_err(internal)?;
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    sessions::list_live(&mut conn, user_id, now.at)
        .await
        .map_err(internal)
}

/// Terminates session `session_id` of `owner`, revokes its refresh family, and revokes the
/// session id like an access-token `jti` for one access-token lifetime, so every access token
/// issued in the session (they carry it as `session_id`) is refused too (SES-02): at once on
/// this replica and wherever the NATS bucket or Postgres answers, within
/// `REVOCATION_MAX_STALENESS` while NATS is down.
///
/// 404 `NOT_FOUND` for an unknown id; 403 `FORBIDDEN` when it belongs to another user
/// (contract §2.2), with an `authz_denied` audit event. Terminating an already terminated
/// session succeeds.
pub async fn terminate(
    platform: &Platform,
    owner: Uuid,
    session_id: Uuid,
    actor: Uuid,
    client: &Client,
) -> Result<(), ApiError> {
    let now = Now::read(platform).map_err(internal)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let found = sessions::find_owner(&mut tx, session_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("session not found"))?;
    if found.user_id != owner {
        drop(tx);
        denied(platform, session_id, actor, client, now).await;
        return Err(ApiError::forbidden("session belongs to another user"));
    }
    sessions::terminate(
        &mut tx,
        &found,
        session_id,
        REASON_SESSION_TERMINATED,
        now.at,
    )
    .await
    .map_err(internal)?;
    let sid = session_id.to_string();
    let expires_at = now.at + access_lifetime(platform);
    auth_bus::enqueue_revoke_jti(&mut tx, &sid, Some(owner), expires_at)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    put_revoked_now(platform, &sid, expires_at, now).await;
    Ok(())
}

/// How long an access token issued now can live (`JWT_ACCESS_EXPIRY`), plus a minute of
/// verifier leeway.
fn access_lifetime(platform: &Platform) -> chrono::Duration {
    let lifetime = platform.settings.jwt.access_expiry + std::time::Duration::from_secs(60);
    chrono::Duration::from_std(lifetime).unwrap_or_else(|_| chrono::Duration::days(366))
}

/// Records a refused cross-user session access (SES-01); failures are only logged.
async fn denied(platform: &Platform, session_id: Uuid, actor: Uuid, client: &Client, now: Now) {
    let Ok(action) = AuditAction::new("authz_denied") else {
        return;
    };
    let event = client
        .event(action, now.at)
        .actor(actor)
        .resource("session", Some(session_id));
    let result = async {
        let mut tx = platform.db.begin().await?;
        auth_bus::enqueue_audit(&mut tx, &event).await?;
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "authz_denied audit event not written");
    }
}
