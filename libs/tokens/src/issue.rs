//! Issuance of an access/refresh pair: the refresh row and session row in the caller's
//! transaction (a new family, or a rotation inside an existing one), then both tokens.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use jwt_verify::AccessClaims;

use crate::apps::AppScope;
use crate::error::IssueError;
use crate::grants::Grants;
use crate::secret::new_token_hash;
use crate::signer::{AccessSpec, RefreshSpec, TokenSigner};
use crate::store::{NewRefreshRow, open_family, rotate};
use crate::subject::{DeviceInfo, Impersonator, UserIdentity};
use crate::time::{Now, at_secs, rfc3339_secs, ttl_secs};

/// Where the new refresh row goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A login: open a new family (and its session).
    New,
    /// A refresh: consume `parent_id` (a live row of `family_id`) and insert its child.
    Existing {
        /// The family of the presented refresh token.
        family_id: Uuid,
        /// The presented (to be consumed) row.
        parent_id: Uuid,
    },
}

/// Everything a pair is issued from.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// The user (fresh from `users`).
    pub user: UserIdentity,
    /// Roles, permissions and org scope from [`crate::assemble`].
    pub grants: Grants,
    /// App scope; `None` in base-user mode.
    pub app: Option<AppScope>,
    /// Whether the login asked to be remembered (refresh lifetime, `remember_me` claims).
    pub remember_me: bool,
    /// The client, stored on the refresh and session rows.
    pub device: DeviceInfo,
    /// The acting admin under impersonation.
    pub impersonator: Option<Impersonator>,
    /// New family (login) or rotation (refresh).
    pub family: Family,
}

/// The contract's `TokenResponse` (§2.1): exactly these five fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// The access JWT.
    pub access_token: String,
    /// The refresh JWT.
    pub refresh_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
    /// Access-token expiry, RFC 3339 seconds precision UTC (`...Z`).
    pub expires_at: String,
}

/// A pair plus what the caller records about it (audit, replies, revocation).
#[derive(Clone, Debug)]
pub struct IssuedPair {
    /// The reply body.
    pub tokens: TokenPair,
    /// The signed access claims (roles, permissions, `jti` for audit or logout).
    pub access: AccessClaims,
    /// The new refresh row's id (`jti`/`tid` of the refresh token).
    pub refresh_token_id: Uuid,
    /// The refresh family.
    pub family_id: Uuid,
    /// The family's session row (`session_id` claim).
    pub session_id: Uuid,
}

/// Issues a pair inside the caller's transaction (`tx`): writes the refresh row and the
/// session row (new family), or rotates (consumes the parent, inserts the child, moves the
/// session) in one statement, then signs both tokens with the signer's clock.
///
/// [`IssueError::RotationLost`] means the parent was no longer live; nothing was written.
pub async fn issue_pair(
    tx: &mut PgConnection,
    signer: &TokenSigner,
    req: &IssueRequest,
) -> Result<IssuedPair, IssueError> {
    let now = Now::read(signer.clock().as_ref())?;
    let refresh_exp = now.plus(signer.refresh_ttl(req.remember_me))?;
    let org_id = req.grants.organization.as_ref().map(|o| o.id);
    let row = NewRefreshRow {
        id: Uuid::new_v4(),
        token_hash: new_token_hash()?,
        expires_at: at_secs(refresh_exp)?,
        organization_id: org_id,
        app_id: req.app.as_ref().map(|a| a.id),
        device: req.device.clone(),
    };
    let (family_id, session_id) = match req.family {
        Family::New => {
            let session_id = Uuid::new_v4();
            open_family(tx, req.user.id, &row, session_id, now.at).await?;
            (row.id, session_id)
        }
        Family::Existing {
            family_id,
            parent_id,
        } => {
            let rotated = rotate(tx, parent_id, &row, now.at)
                .await?
                .ok_or(IssueError::RotationLost)?;
            if rotated.family_id != family_id || rotated.user_id != req.user.id {
                return Err(IssueError::FamilyMismatch);
            }
            (family_id, rotated.session_id)
        }
    };

    let access = signer.access_claims(
        &AccessSpec {
            user: &req.user,
            grants: &req.grants,
            app: req.app.as_ref(),
            session_id,
            remember_me: req.remember_me,
            impersonator: req.impersonator.as_ref(),
        },
        now.secs,
    )?;
    let refresh = signer.refresh_claims(
        &RefreshSpec {
            user_id: req.user.id,
            row_id: row.id,
            org_id,
            remember_me: req.remember_me,
            app_code: req.app.as_ref().map(|a| a.code.as_str()),
        },
        now.secs,
    )?;
    let tokens = TokenPair {
        access_token: signer.encode_access(&access)?,
        refresh_token: signer.encode_refresh(&refresh)?,
        token_type: "Bearer".to_owned(),
        expires_in: ttl_secs(signer.access_ttl()),
        expires_at: rfc3339_secs(access.exp).ok_or(crate::SignError::ClockOutOfRange)?,
    };
    Ok(IssuedPair {
        tokens,
        access,
        refresh_token_id: row.id,
        family_id,
        session_id,
    })
}
