//! `POST /auth/refresh` (contract §5.2, RFC 6819 §5.2.2.3).
//!
//! Happy path: two statements, no explicit transaction, so two round trips and one commit:
//! 1. [`auth_tokens::load_refresh_context`]: the presented row, its session, the user, the
//!    app and the claims for (user, app, org);
//! 2. [`auth_tokens::rotate_at_version`]: consume the row, insert its child, move the
//!    family's one session, only while the user's token version is the one the claims used.
//!
//! Both tokens are signed between the two, so nothing can fail once the rotation has
//! committed (§9.21). A revoked row is a replay: the family dies and
//! `refresh.reuse_detected` is audited in the same transaction.

use auth_bus::AuditAction;
use auth_host::Platform;
use auth_tokens::store::{REASON_IDLE_TIMEOUT, REASON_REUSE_DETECTED};
use auth_tokens::{
    AccessSpec, NewRefreshRow, RefreshContext, RefreshSpec, RotationGuard, TokenPair,
    load_refresh_context, new_token_hash, rfc3339_secs, rotate_at_version,
};
use jwt_verify::{AccessClaims, RefreshClaims, VerifyError};
use uuid::Uuid;

use crate::domain::refresh::{RowVerdict, after_loss, app_gate, judge_row, user_gate};
use crate::error::SessionError;
use crate::flows::common::{Client, Now};
use crate::repo;

/// A parsed refresh request.
#[derive(Clone, Debug)]
pub struct RefreshInput {
    /// The presented refresh JWT.
    pub refresh_token: String,
    /// The org to switch to; `None` keeps the token's org.
    pub organization_id: Option<Uuid>,
    /// The caller.
    pub client: Client,
}

/// Rotates the presented refresh token into a new pair.
pub async fn refresh(platform: &Platform, input: &RefreshInput) -> Result<TokenPair, SessionError> {
    let claims = platform
        .verifier
        .verify_refresh(&input.refresh_token)
        .map_err(|e| match e {
            VerifyError::Expired => SessionError::TokenExpired,
            _ => SessionError::TokenInvalid,
        })?;
    let row_id = Uuid::parse_str(&claims.tid).map_err(|_| SessionError::TokenInvalid)?;
    let user_id = Uuid::parse_str(&claims.uid).map_err(|_| SessionError::TokenInvalid)?;
    let org_id = match input.organization_id {
        Some(org) => Some(org),
        None => token_org(&claims)?,
    };
    let now = Now::read(platform)?;

    let mut conn = platform.db.acquire().await?;
    // round trip 1
    let ctx = load_refresh_context(&mut conn, row_id, user_id, org_id)
        .await?
        .ok_or(SessionError::TokenInvalid)?;
    if ctx.row.user_id != user_id {
        return Err(SessionError::TokenInvalid);
    }
    let idle = platform.settings.auth.refresh_idle_timeout;
    match judge_row(&ctx.row, now.at, idle) {
        RowVerdict::Live => {}
        RowVerdict::Expired => return Err(SessionError::TokenInvalid),
        RowVerdict::Ended => return Err(SessionError::TokenRevoked),
        RowVerdict::Reused => {
            drop(conn);
            end_family(platform, &ctx, &input.client, now, Ending::Reuse).await?;
            return Err(SessionError::TokenRevoked);
        }
        RowVerdict::IdleTimeout => {
            drop(conn);
            end_family(platform, &ctx, &input.client, now, Ending::Idle).await?;
            return Err(SessionError::TokenRevoked);
        }
    }
    let user = user_gate(ctx.user.as_ref())?;
    app_gate(ctx.row.app_id, ctx.app.as_ref(), ctx.app_granted)?;
    let grants = match ctx.grants {
        Ok(ref g) => g,
        Err(ref e) => return Err(claims_error(e)),
    };

    // sign before writing: nothing may fail after the commit (§9.21)
    let signer = &platform.signer;
    let new_row_id = Uuid::new_v4();
    let session_id = ctx.row.session_id.unwrap_or_else(Uuid::new_v4);
    let app = ctx.app.as_ref();
    let access_spec = AccessSpec {
        user: &user.identity,
        grants,
        app,
        session_id,
        remember_me: claims.remember_me,
        impersonator: None,
    };
    let access = signer
        .access_claims(&access_spec, now.secs)
        .map_err(unexpected)?;
    let refresh = signer
        .refresh_claims(
            &RefreshSpec {
                user_id,
                row_id: new_row_id,
                org_id: grants.organization.as_ref().map(|o| o.id),
                remember_me: claims.remember_me,
                app_code: app.map(|a| a.code.as_str()),
            },
            now.secs,
        )
        .map_err(unexpected)?;
    let mut pair = sign_pair(platform, &access, &refresh)?;
    let new_row = NewRefreshRow {
        id: new_row_id,
        token_hash: new_token_hash().map_err(unexpected)?,
        expires_at: chrono::DateTime::from_timestamp(refresh.exp, 0)
            .ok_or_else(|| SessionError::Unexpected(anyhow::anyhow!("expiry out of range")))?,
        organization_id: grants.organization.as_ref().map(|o| o.id),
        app_id: app.map(|a| a.id),
        device: input.client.device(),
    };
    let guard = RotationGuard {
        user_id,
        token_version: user.identity.token_version,
        new_session_id: session_id,
    };

    // round trip 2: the one commit
    let Some(rotated) = rotate_at_version(&mut conn, row_id, &new_row, now.at, &guard).await?
    else {
        let state = repo::refresh::read_after_loss(&mut conn, row_id).await?;
        return Err(after_loss(&state, user.identity.token_version));
    };
    if rotated.session_id != session_id {
        // the family's session was replaced meanwhile: re-sign with the right id, and
        // should that fail, answer with what was committed rather than a 5xx (§9.21)
        let mut again = access;
        again.session_id = rotated.session_id.to_string();
        match signer.encode_access(&again) {
            Ok(token) => pair.access_token = token,
            Err(e) => tracing::error!(error = %e, "re-signing the access token failed"),
        }
    }
    Ok(pair)
}

/// The org the refresh token is scoped to (`org_id` claim), if any.
fn token_org(claims: &RefreshClaims) -> Result<Option<Uuid>, SessionError> {
    if claims.org_id.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(&claims.org_id)
        .map(Some)
        .map_err(|_| SessionError::TokenInvalid)
}

fn sign_pair(
    platform: &Platform,
    access: &AccessClaims,
    refresh: &RefreshClaims,
) -> Result<TokenPair, SessionError> {
    let signer = &platform.signer;
    Ok(TokenPair {
        access_token: signer.encode_access(access).map_err(unexpected)?,
        refresh_token: signer.encode_refresh(refresh).map_err(unexpected)?,
        token_type: "Bearer".to_owned(),
        expires_in: i64::try_from(signer.access_ttl().as_secs()).unwrap_or(i64::MAX),
        expires_at: rfc3339_secs(access.exp)
            .ok_or_else(|| SessionError::Unexpected(anyhow::anyhow!("expiry out of range")))?,
    })
}

/// Why a family is ended on refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// A revoked row was presented again.
    Reuse,
    /// The row idled past `AUTH_REFRESH_IDLE_TIMEOUT`.
    Idle,
}

async fn end_family(
    platform: &Platform,
    ctx: &RefreshContext,
    client: &Client,
    now: Now,
    ending: Ending,
) -> Result<(), SessionError> {
    let (action, reason) = match ending {
        Ending::Reuse => (AuditAction::REFRESH_REUSE_DETECTED, REASON_REUSE_DETECTED),
        Ending::Idle => (AuditAction::REFRESH_IDLE_TIMEOUT, REASON_IDLE_TIMEOUT),
    };
    let family = ctx.row.family_id;
    let mut event = client
        .event(action, now.at)
        .actor(ctx.row.user_id)
        .resource("refresh_token_family", Some(family))
        .details(serde_json::json!({
            "family_id": family,
            "presented_token_id": ctx.row.id,
            "reason": reason,
        }));
    if let Some(org) = ctx.row.organization_id {
        event = event.organization(org);
    }
    let revoked = repo::refresh::end_family(&platform.db, family, reason, now.at, &event).await?;
    if revoked > 0 {
        tracing::warn!(family_id = %family, user_id = %ctx.row.user_id, revoked, reason, "refresh family revoked");
    }
    Ok(())
}

fn claims_error(e: &auth_tokens::ClaimsError) -> SessionError {
    use auth_tokens::ClaimsError as C;
    match e {
        C::OrganizationNotFound => SessionError::Claims(C::OrganizationNotFound),
        C::OrganizationSuspended => SessionError::Claims(C::OrganizationSuspended),
        C::NotOrganizationMember => SessionError::Claims(C::NotOrganizationMember),
        other => SessionError::Unexpected(anyhow::anyhow!("claims assembly: {other}")),
    }
}

fn unexpected(e: impl std::error::Error + Send + Sync + 'static) -> SessionError {
    SessionError::Unexpected(e.into())
}
