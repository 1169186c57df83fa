//! `POST /auth/logout` (contract §2.1, §5.3, decisions §9.11 and §9.15): revoke the presented
//! refresh token's row and, when a bearer came along, that access token's `jti`.

use auth_edge::ApiError;
use auth_host::Platform;
use jwt_verify::AccessClaims;
use uuid::Uuid;

use crate::error::internal;
use crate::flows::common::{Now, put_revoked_now};
use crate::repo::tokens::revoke_for_logout;

/// A parsed logout request.
#[derive(Clone, Debug)]
pub struct LogoutInput {
    /// The presented refresh JWT (non-empty).
    pub refresh_token: String,
    /// The verified bearer, when the request carried one.
    pub bearer: Option<AccessClaims>,
}

/// Logs out: 401 `UNAUTHORIZED` when the bearer and the refresh token name different users;
/// otherwise succeeds whatever the refresh token is (unknown, foreign, already revoked:
/// only logged), after revoking what it can in one transaction.
pub async fn logout(platform: &Platform, input: &LogoutInput) -> Result<(), ApiError> {
    let refresh = platform.verifier.verify_refresh(&input.refresh_token).ok();
    if let (Some(bearer), Some(refresh)) = (&input.bearer, &refresh)
        && bearer.uid != refresh.uid
    {
        return Err(ApiError::unauthorized(
            "Refresh token does not belong to the caller",
        ));
    }
    let target = refresh.as_ref().and_then(|r| {
        let row = Uuid::parse_str(&r.tid).ok()?;
        let user = Uuid::parse_str(&r.uid).ok()?;
        Some((row, user))
    });
    if target.is_none() {
        tracing::info!("logout with an unusable refresh token; nothing to revoke");
    }
    let jti = input.bearer.as_ref().and_then(revocable_jti);
    if target.is_none() && jti.is_none() {
        return Ok(());
    }

    let now = Now::read(platform).map_err(internal)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    if let Some((row, user)) = target {
        let revoked = revoke_for_logout(&mut tx, row, user, now.at)
            .await
            .map_err(internal)?;
        if revoked == 0 {
            tracing::info!("logout: refresh token already revoked or unknown");
        }
    }
    if let Some((jti, user, expires_at)) = &jti {
        match auth_bus::enqueue_revoke_jti(&mut tx, jti, *user, *expires_at).await {
            Ok(_) => {}
            Err(auth_bus::BusError::InvalidKey) => {
                tracing::warn!("logout: access token jti is not revocable");
            }
            Err(e) => return Err(internal(e)),
        }
    }
    tx.commit().await.map_err(internal)?;

    if let Some((jti, _, expires_at)) = jti {
        put_revoked_now(platform, &jti, expires_at, now).await;
    }
    Ok(())
}

/// The bearer's `jti`, user and expiry, when it is worth revoking.
fn revocable_jti(
    claims: &AccessClaims,
) -> Option<(String, Option<Uuid>, chrono::DateTime<chrono::Utc>)> {
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0)?;
    if claims.jti.is_empty() {
        return None;
    }
    Some((
        claims.jti.clone(),
        Uuid::parse_str(&claims.uid).ok(),
        expires_at,
    ))
}
