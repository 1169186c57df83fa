//! Account resolution and sign-in for SSO: link by `(provider, provider_user_id)`, else by
//! a VERIFIED email (the issue's policy; an unverified one never links, SSO-05/06), else
//! create; then the same account gates as password login (PW-07), the second factor
//! (MFA-09), the app grant, and issuance through the shared login code.

use auth_bus::AuditAction;
use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use auth_tokens::AppScope;
use sqlx::PgConnection;
use uuid::Uuid;

use super::providers::{ExternalIdentity, Provider};
use crate::domain::{Email, pools};
use crate::error::{claims, internal, unique_violation, user_not_found};
use crate::flows::common::{Client, IssueOptions, audit, issue};
use crate::flows::login::{LoginSuccess, ensure_grant, fail};
use crate::flows::totp::take_code;
use crate::repo::orgs;
use crate::repo::sso::{self, NewSsoUser};
use crate::repo::users::{self, UserRow};

/// The user behind `identity` at `provider`, linking or creating as the policy allows,
/// in the caller's transaction (a failure later rolls the link back: no partial rows).
pub async fn resolve_user(
    conn: &mut PgConnection,
    provider: &Provider,
    identity: &ExternalIdentity,
    app: Option<&AppScope>,
) -> Result<UserRow, ApiError> {
    let code = provider.code.as_str();
    if let Some(id) = sso::linked_user(conn, code, &identity.subject)
        .await
        .map_err(internal)?
    {
        return users::lock_by_id(conn, id)
            .await
            .map_err(internal)?
            .ok_or_else(user_not_found);
    }
    let email = identity
        .email
        .as_deref()
        .and_then(Email::parse)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::SsoProviderError,
                "The identity provider did not share a usable email address",
            )
        })?;
    let pools = pools::read_pools(app);
    let existing = users::find_live_by_email(conn, email.as_str(), Some(&pools))
        .await
        .map_err(internal)?;
    let data = serde_json::json!({
        "email": identity.email,
        "email_verified": identity.email_verified,
        "name": identity.display_name,
    });
    if let Some(user) = existing {
        if !identity.email_verified {
            // SSO-05/06: an unverified address never reaches an existing account
            return Err(ApiError::new(
                ErrorCode::UserAlreadyExists,
                "An account with this email exists; sign in to it to link this provider",
            ));
        }
        if !sso::link(conn, user.id, code, &identity.subject, &data)
            .await
            .map_err(internal)?
        {
            return Err(ApiError::conflict(
                "This account is already linked to another identity of this provider",
            ));
        }
        return users::lock_by_id(conn, user.id)
            .await
            .map_err(internal)?
            .ok_or_else(user_not_found);
    }
    let home = pools::home_pool(app);
    let local = email.as_str().split('@').next().unwrap_or_default();
    let first = identity
        .first_name
        .clone()
        .unwrap_or_else(|| local.to_owned());
    let last = identity.last_name.clone().unwrap_or_default();
    let new = NewSsoUser {
        email: email.as_str(),
        email_verified: identity.email_verified,
        first_name: &first,
        last_name: &last,
        display_name: identity.display_name.as_deref(),
        avatar_url: identity.avatar_url.as_deref(),
        auth_provider: &provider.auth_provider,
        provider_user_id: &identity.subject,
        namespace: &home,
    };
    let user = sso::insert_user(conn, &new)
        .await
        .map_err(|e| match unique_violation(&e) {
            Some(_) => ApiError::new(ErrorCode::UserAlreadyExists, "User already exists"),
            None => internal(e),
        })?;
    if let Some(app) = app {
        users::tag_pools(conn, user.id, &app.read_namespaces)
            .await
            .map_err(internal)?;
    }
    if !sso::link(conn, user.id, code, &identity.subject, &data)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::conflict("SSO identity already linked"));
    }
    Ok(user)
}

/// What the second-factor step decided.
pub enum SecondFactor {
    /// No TOTP, or the code was right (its step is taken in `conn`).
    Passed,
    /// Missing or wrong (a wrong one was counted and audited).
    Required,
}

/// §5.1 step 6 for an SSO sign-in (MFA-09): a user with TOTP needs `code`.
pub async fn second_factor(
    platform: &Platform,
    conn: &mut PgConnection,
    user: &UserRow,
    code: Option<&str>,
    client: &Client,
) -> Result<SecondFactor, ApiError> {
    if !user.totp_active() {
        return Ok(SecondFactor::Passed);
    }
    let code = code.map(str::trim).unwrap_or_default();
    if code.is_empty() {
        return Ok(SecondFactor::Required);
    }
    let sealer = crate::state::totp_sealer(&platform.settings);
    if take_code(conn, &sealer, user, code).await? {
        let event = client.event(AuditAction::TWO_FA_VERIFIED).actor(user.id);
        audit(conn, &event).await?;
        return Ok(SecondFactor::Passed);
    }
    fail(
        platform,
        user,
        client,
        AuditAction::TWO_FA_FAILED,
        "invalid_totp",
    )
    .await?;
    Ok(SecondFactor::Required)
}

/// §5.1 steps 7-11 in the caller's transaction: stamp the login, claims, app grant,
/// the pair and `login.success` (method `sso:<provider>`). The caller commits.
pub async fn issue_login(
    conn: &mut PgConnection,
    platform: &Platform,
    user: UserRow,
    app: Option<AppScope>,
    organization_id: Option<Uuid>,
    provider: &str,
    client: &Client,
) -> Result<LoginSuccess, ApiError> {
    let mut user = user;
    user.last_login_at = Some(
        users::record_success(conn, user.id)
            .await
            .map_err(internal)?,
    );
    user.failed_login_attempts = Some(0);
    user.locked_until = None;
    let grants = auth_tokens::assemble(conn, user.id, app.as_ref(), organization_id)
        .await
        .map_err(claims)?;
    if let Some(app) = &app {
        ensure_grant(conn, &user, app, &Default::default(), client).await?;
    }
    let organization = match organization_id {
        Some(id) => orgs::find(conn, id).await.map_err(internal)?,
        None => None,
    };
    let roles = grants.roles.clone();
    let permissions = grants.permissions.clone();
    let options = IssueOptions {
        remember_me: false,
        device: client.device(),
        impersonator: None,
    };
    let issued = issue(conn, platform, &user, grants, app.clone(), options).await?;
    let mut event = client
        .event(AuditAction::LOGIN_SUCCESS)
        .actor(user.id)
        .resource("session", Some(issued.session_id))
        .details(serde_json::json!({
            "app_code": app.as_ref().map(|a| a.code.clone()),
            "method": format!("sso:{provider}"),
        }));
    if let Some(org) = organization_id {
        event = event.organization(org);
    }
    audit(conn, &event).await?;
    Ok(LoginSuccess {
        user,
        organization,
        tokens: issued.tokens,
        roles,
        permissions,
    })
}
