//! Pure rules of a refresh (contract §5.2): what the presented row's state means, the user and
//! app gates, and what a lost rotation means once the row has been read again.

use std::time::Duration;

use auth_tokens::{AppScope, RefreshRowState, RefreshUser};
use chrono::{DateTime, Utc};

use crate::error::SessionError;

/// What the presented row allows, checked in the contract's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowVerdict {
    /// Live: try to rotate it.
    Live,
    /// Already revoked: a replay. Revoke the family, audit `refresh.reuse_detected`.
    Reused,
    /// Its session was terminated although the row is not revoked (adopted data): refuse.
    Ended,
    /// Past its expiry: `TOKEN_INVALID`.
    Expired,
    /// Unused for longer than `AUTH_REFRESH_IDLE_TIMEOUT`: revoke the family, audit
    /// `refresh.idle_timeout`.
    IdleTimeout,
}

/// Judges the presented row at `now` (idle time is measured from the row's issue).
#[must_use]
pub fn judge_row(
    row: &RefreshRowState,
    now: DateTime<Utc>,
    idle_timeout: Option<Duration>,
) -> RowVerdict {
    if row.revoked {
        return RowVerdict::Reused;
    }
    if row.session_terminated {
        return RowVerdict::Ended;
    }
    if row.expires_at <= now {
        return RowVerdict::Expired;
    }
    if let Some(idle) = idle_timeout {
        let unused = now.signed_duration_since(row.created_at);
        if unused.to_std().is_ok_and(|unused| unused > idle) {
            return RowVerdict::IdleTimeout;
        }
    }
    RowVerdict::Live
}

/// The user gates of a refresh: gone or soft-deleted is 404, suspended is 403.
pub fn user_gate(user: Option<&RefreshUser>) -> Result<&RefreshUser, SessionError> {
    let user = user.ok_or(SessionError::UserNotFound)?;
    if user.deleted || user.status == "deleted" {
        return Err(SessionError::UserNotFound);
    }
    if user.status == "suspended" {
        return Err(SessionError::UserSuspended);
    }
    Ok(user)
}

/// The app gates of an app-scoped refresh: the app must still exist and be active, and the
/// user must still hold a grant (unless the app grants on first contact).
pub fn app_gate(
    row_app: Option<uuid::Uuid>,
    app: Option<&AppScope>,
    granted: bool,
) -> Result<(), SessionError> {
    if row_app.is_none() {
        return Ok(());
    }
    let app = app.ok_or(SessionError::AppNotFound)?;
    if !app.is_active() {
        return Err(SessionError::AppInactive);
    }
    if !granted && !app.auto_grant_on_signup {
        return Err(SessionError::AppNotGranted);
    }
    Ok(())
}

/// The presented row as read again after a rotation changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AfterLoss {
    /// Whether the row still exists.
    pub exists: bool,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Why.
    pub revoked_reason: Option<String>,
    /// Whether its session is terminated.
    pub session_terminated: bool,
    /// The user's current token version.
    pub token_version: Option<i64>,
}

/// What a lost rotation answers: a concurrent rotation won (`TOKEN_INVALID`, §5.2 "loser
/// gets 401 TOKEN_INVALID"), or the family was revoked or the user's token version moved
/// meanwhile (`TOKEN_REVOKED`).
#[must_use]
pub fn after_loss(state: &AfterLoss, expected_version: i64) -> SessionError {
    if !state.exists {
        return SessionError::TokenInvalid;
    }
    if state.token_version != Some(expected_version) || state.session_terminated {
        return SessionError::TokenRevoked;
    }
    match (state.revoked, state.revoked_reason.as_deref()) {
        (true, Some(auth_tokens::store::REASON_TOKEN_REFRESH)) => SessionError::TokenInvalid,
        (true, _) => SessionError::TokenRevoked,
        (false, _) => SessionError::TokenInvalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn row(now: DateTime<Utc>) -> RefreshRowState {
        RefreshRowState {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            family_id: Uuid::nil(),
            organization_id: None,
            app_id: None,
            revoked: false,
            revoked_reason: None,
            expires_at: now + chrono::Duration::hours(1),
            created_at: now - chrono::Duration::minutes(10),
            session_id: None,
            session_terminated: false,
        }
    }

    #[test]
    fn verdicts_follow_the_contract_order() {
        let now = Utc::now();
        let live = row(now);
        assert_eq!(judge_row(&live, now, None), RowVerdict::Live);
        let idle = Some(Duration::from_secs(300));
        assert_eq!(judge_row(&live, now, idle), RowVerdict::IdleTimeout);
        assert_eq!(
            judge_row(&live, now, Some(Duration::from_secs(3600))),
            RowVerdict::Live
        );
        let mut expired = row(now);
        expired.expires_at = now;
        assert_eq!(judge_row(&expired, now, idle), RowVerdict::Expired);
        // a revoked row is reuse even when it has also expired or idled
        let mut revoked = expired.clone();
        revoked.revoked = true;
        assert_eq!(judge_row(&revoked, now, idle), RowVerdict::Reused);
        let mut ended = row(now);
        ended.session_terminated = true;
        assert_eq!(judge_row(&ended, now, None), RowVerdict::Ended);
    }

    #[test]
    fn lost_rotations_tell_a_race_from_a_revocation() {
        let base = AfterLoss {
            exists: true,
            revoked: true,
            revoked_reason: Some("token_refresh".into()),
            session_terminated: false,
            token_version: Some(3),
        };
        assert!(matches!(after_loss(&base, 3), SessionError::TokenInvalid));
        assert!(matches!(after_loss(&base, 2), SessionError::TokenRevoked));
        let logout = AfterLoss {
            revoked_reason: Some("user_logout".into()),
            ..base.clone()
        };
        assert!(matches!(after_loss(&logout, 3), SessionError::TokenRevoked));
        let gone = AfterLoss {
            exists: false,
            ..base
        };
        assert!(matches!(after_loss(&gone, 3), SessionError::TokenInvalid));
    }

    #[test]
    fn user_and_app_gates() {
        let user = |status: &str, deleted: bool| RefreshUser {
            identity: auth_tokens::UserIdentity {
                id: Uuid::nil(),
                email: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                display_name: String::new(),
                auth_provider: "local".into(),
                namespace: "default".into(),
                token_version: 0,
            },
            status: status.into(),
            deleted,
        };
        assert!(user_gate(Some(&user("active", false))).is_ok());
        assert!(user_gate(Some(&user("pending", false))).is_ok());
        assert!(matches!(
            user_gate(Some(&user("suspended", false))),
            Err(SessionError::UserSuspended)
        ));
        assert!(matches!(
            user_gate(Some(&user("active", true))),
            Err(SessionError::UserNotFound)
        ));
        assert!(matches!(user_gate(None), Err(SessionError::UserNotFound)));
        assert!(app_gate(None, None, false).is_ok());
        assert!(matches!(
            app_gate(Some(Uuid::nil()), None, false),
            Err(SessionError::AppNotFound)
        ));
    }
}
