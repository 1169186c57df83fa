//! Password login, exactly in the step order of contract §5.1.

use auth_bus::AuditAction;
use auth_cache::Fallback;
use auth_edge::ApiError;
use auth_host::Platform;
use auth_tokens::{AppScope, TokenPair};
use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::cognito;
use super::common::{
    Client, IssueOptions, Provisioning, audit, audit_alone, issue, provision, resolve_app,
};
use crate::domain::{Email, email::normalise, pools};
use crate::error::{claims, hashing, internal, invalid_credentials, suspended, user_not_found};
use crate::repo::orgs::{self, OrgRow};
use crate::repo::users::{self, UserRow};
use crate::state::Services;

/// A login attempt.
#[derive(Clone, Debug, Default)]
pub struct LoginInput {
    /// Email as typed.
    pub email: String,
    /// Password as typed.
    pub password: String,
    /// App code from the body.
    pub app_code: Option<String>,
    /// Org scope.
    pub organization_id: Option<Uuid>,
    /// Longer refresh lifetime.
    pub remember_me: bool,
    /// TOTP code.
    pub two_factor_code: Option<String>,
    /// Provisioning overrides for an auto-grant.
    pub provisioning: Provisioning,
}

/// A successful login, as `LoginResponse` needs it.
#[derive(Clone, Debug)]
pub struct LoginSuccess {
    /// The user after the login was recorded.
    pub user: UserRow,
    /// The org the tokens are scoped to.
    pub organization: Option<OrgRow>,
    /// The pair.
    pub tokens: TokenPair,
    /// Role codes in the token.
    pub roles: Vec<String>,
    /// Permission codes in the token.
    pub permissions: Vec<String>,
}

/// What a login ends in besides errors.
#[derive(Clone, Debug)]
pub enum LoginOutcome {
    /// Tokens issued.
    Success(Box<LoginSuccess>),
    /// TOTP is active and the code was missing or wrong: bare 401 `{"requires_2fa":true}`.
    TwoFactorRequired,
}

/// Redis key of the per-account counter (§8): `account_attempts:<sha256(email)>`.
fn attempts_key(email: &str) -> String {
    format!(
        "account_attempts:{}",
        hex::encode(Sha256::digest(email.as_bytes()))
    )
}

/// Runs the §5.1 pipeline.
pub async fn login(
    platform: &Platform,
    services: &Services,
    input: LoginInput,
    client: &Client,
) -> Result<LoginOutcome, ApiError> {
    let auth = &platform.settings.auth;
    // 1. normalise; per-account limiter before anything else (no-op without Redis, §5.4)
    let email = normalise(&input.email);
    let key = attempts_key(&email);
    let counted = platform
        .cache
        .incr_window(&key, auth.account_attempts_window, Fallback::Skip)
        .await
        .ok()
        .flatten();
    if let Some(c) = counted
        && c.count > u64::from(auth.account_attempts_limit)
    {
        let event = client
            .event(AuditAction::LOGIN_RATE_LIMITED_ACCOUNT)
            .details(serde_json::json!({ "attempts": c.count }));
        audit_alone(platform, &event).await?;
        return Err(
            ApiError::rate_limited("Too many login attempts for this account")
                .with_details(serde_json::json!({ "retry_after": c.resets_in.as_secs() })),
        );
    }

    // 2. app
    let app = resolve_app(
        platform,
        input.app_code.as_deref(),
        auth.allow_base_user_login,
    )
    .await?;

    // 3. the user in the app's readable pools
    let pools = pools::read_pools(app.as_ref());
    // a string that is no address cannot name a user: skip the lookup, keep the timing
    let found = if Email::parse(&email).is_none() {
        None
    } else {
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        users::find_in_pools(&mut conn, &email, &pools)
            .await
            .map_err(internal)?
    };
    // §7.5: an email unknown here may still be a Cognito user (only with the bridge on)
    let mut verified = false;
    let found = match found {
        None => cognito::migrate_unknown(
            platform,
            services,
            &email,
            &input.password,
            app.as_ref(),
            client,
        )
        .await?
        .map(|m| {
            verified = true; // Cognito just checked this very password
            m.user
        }),
        some => some,
    };
    let Some(user) = found else {
        // the same bcrypt work as a wrong password (PW-04)
        services
            .hasher
            .verify(&input.password, None)
            .await
            .map_err(hashing)?;
        let event = client
            .event(AuditAction::LOGIN_FAILED)
            .details(serde_json::json!({ "reason": "unknown_email" }));
        audit_alone(platform, &event).await?;
        return Err(invalid_credentials());
    };

    // 4. account state
    check_account_state(&user)?;

    // 5. password
    let ok = verified
        || services
            .hasher
            .verify(&input.password, user.password_hash.as_deref())
            .await
            .map_err(hashing)?;
    if !ok {
        cognito::check_conflict(
            platform,
            services,
            &user,
            &input.password,
            app.as_ref(),
            client,
        )
        .await?;
        fail(
            platform,
            &user,
            client,
            AuditAction::LOGIN_FAILED,
            "invalid_password",
        )
        .await?;
        return Err(invalid_credentials());
    }

    let mut tx = platform.db.begin().await.map_err(internal)?;
    // 6. second factor
    if user.totp_active() {
        let code = input
            .two_factor_code
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        if code.is_empty() {
            return Ok(LoginOutcome::TwoFactorRequired);
        }
        if !super::totp::take_code(&mut tx, &services.totp, &user, code).await? {
            drop(tx);
            fail(
                platform,
                &user,
                client,
                AuditAction::TWO_FA_FAILED,
                "invalid_totp",
            )
            .await?;
            return Ok(LoginOutcome::TwoFactorRequired);
        }
        audit(
            &mut tx,
            &client.event(AuditAction::TWO_FA_VERIFIED).actor(user.id),
        )
        .await?;
    }

    // 7. reset the counter, stamp the login
    let mut user = user;
    user.last_login_at = Some(
        users::record_success(&mut tx, user.id)
            .await
            .map_err(internal)?,
    );
    user.failed_login_attempts = Some(0);
    user.locked_until = None;

    // 8-9. roles and permissions (§9.3, §9.4)
    let grants = auth_tokens::assemble(&mut tx, user.id, app.as_ref(), input.organization_id)
        .await
        .map_err(claims)?;
    // 10. app grant, or auto-grant with provisioning
    if let Some(app) = &app {
        ensure_grant(&mut tx, &user, app, &input.provisioning, client).await?;
    }
    let organization = match input.organization_id {
        Some(id) => orgs::find(&mut tx, id).await.map_err(internal)?,
        None => None,
    };
    // 11. the pair, then login.success, all in one commit
    let roles = grants.roles.clone();
    let permissions = grants.permissions.clone();
    let options = IssueOptions {
        remember_me: input.remember_me,
        device: client.device(),
        impersonator: None,
    };
    let issued = issue(&mut tx, platform, &user, grants, app.clone(), options).await?;
    let mut event = client
        .event(AuditAction::LOGIN_SUCCESS)
        .actor(user.id)
        .resource("session", Some(issued.session_id))
        .details(serde_json::json!({
            "app_code": app.as_ref().map(|a| a.code.clone()),
            "method": if user.totp_active() { "password+totp" } else { "password" },
        }));
    if let Some(org) = input.organization_id {
        event = event.organization(org);
    }
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)?;

    // after commit nothing may fail the request (§9.21)
    if let Err(e) = platform.cache.del(&key, Fallback::Skip).await {
        tracing::warn!(error = %e, "per-account counter not reset");
    }
    Ok(LoginOutcome::Success(Box::new(LoginSuccess {
        user,
        organization,
        tokens: issued.tokens,
        roles,
        permissions,
    })))
}

/// §5.1 step 4, the account gates every sign-in path applies (PW-07), in the contract's
/// order: locked 403, suspended 403, deleted 404.
pub fn check_account_state(user: &UserRow) -> Result<(), ApiError> {
    if user.locked_at(Utc::now()) {
        return Err(suspended(
            "Account is temporarily locked due to too many failed login attempts",
        ));
    }
    if user.status == "suspended" {
        return Err(suspended("Account is suspended"));
    }
    if user.is_deleted() {
        return Err(user_not_found());
    }
    Ok(())
}

/// A failed password or TOTP: count it (lock at the limit) and audit, in one commit.
pub async fn fail(
    platform: &Platform,
    user: &UserRow,
    client: &Client,
    action: AuditAction,
    reason: &str,
) -> Result<(), ApiError> {
    let details = serde_json::json!({ "reason": reason });
    fail_with_details(platform, user, client, action, details).await
}

/// [`fail`] with the audit `details` given (`failed_attempts` is added to them).
pub async fn fail_with_details(
    platform: &Platform,
    user: &UserRow,
    client: &Client,
    action: AuditAction,
    mut details: serde_json::Value,
) -> Result<(), ApiError> {
    let auth = &platform.settings.auth;
    let lockout = i64::try_from(auth.lockout_duration.as_secs()).unwrap_or(i64::MAX);
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let attempts = users::record_failure(&mut tx, user.id, auth.max_login_attempts, lockout)
        .await
        .map_err(internal)?;
    details["failed_attempts"] = serde_json::json!(attempts);
    let event = client.event(action).actor(user.id).details(details);
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)
}

/// §5.1 step 10: an active grant, or an auto-grant when the app allows it, else 403.
pub async fn ensure_grant(
    conn: &mut sqlx::PgConnection,
    user: &UserRow,
    app: &AppScope,
    provisioning: &Provisioning,
    client: &Client,
) -> Result<(), ApiError> {
    if auth_tokens::has_active_grant(conn, user.id, app.id)
        .await
        .map_err(internal)?
    {
        return Ok(());
    }
    if !app.auto_grant_on_signup {
        return Err(ApiError::forbidden("user is not authorized for this app"));
    }
    provision(conn, user.id, app, provisioning, client).await
}

#[cfg(test)]
mod tests {
    use super::attempts_key;

    #[test]
    fn counter_key_hides_the_address() {
        let k = attempts_key("a@b.co");
        assert!(k.starts_with("account_attempts:"));
        assert!(!k.contains("a@b.co"));
        assert_eq!(k.len(), "account_attempts:".len() + 64);
    }
}
