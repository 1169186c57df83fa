//! The two hooks of the password login: [`migrate_unknown`] (§5.1 step 3, the email is
//! unknown here) and [`check_conflict`] (§5.1 step 5, a known user's password is wrong).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use auth_bus::AuditAction;
use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use auth_tokens::AppScope;
use serde_json::json;

use super::client::{AuthResult, CognitoClient, CognitoError, LegacyUser};
use super::profile;
use crate::domain::{Email, pools};
use crate::error::{hashing, internal, unique_violation};
use crate::flows::common::{Client, audit};
use crate::flows::login::fail_with_details;
use crate::hasher::HashError;
use crate::repo::legacy::{self, MigratedUser};
use crate::repo::users::{self, UserRow};
use crate::state::Services;

/// A user the bridge handed back to the login. Cognito has just verified the password the
/// caller typed, so the login skips its own bcrypt check (§5.1 step 5).
#[derive(Clone, Debug)]
pub struct Migrated {
    /// The local user (just created, or created a moment ago by a concurrent login).
    pub user: UserRow,
}

/// What one Cognito exchange came to.
enum Exchange {
    /// Password right, profile and groups fetched.
    Verified(LegacyUser, Vec<String>),
    /// Password right, but Cognito wants a new password or a second factor first.
    Challenge(String),
}

/// §5.1 step 3 with the bridge on: asks Cognito about an email unknown here.
///
/// - `Ok(Some(_))`: the user now exists locally; the login continues with it.
/// - `Ok(None)`: Cognito does not know the user or refused the password (or the bridge is
///   off): the caller answers exactly as for any unknown email (PW-04, MIG-03).
/// - 503 when Cognito is down, slow (past `COGNITO_TIMEOUT`) or throttling: nothing is
///   written and no counter moves (MIG-05).
/// - 403 `FORBIDDEN` (`details.reason = "password_reset_required"`) when the password was
///   right but the account cannot arrive as an active one (`FORCE_CHANGE_PASSWORD`, an MFA
///   challenge, a password bcrypt cannot hold): a password-less pending user is created so
///   the ordinary reset flow finishes the move (MIG-04, MIG-06).
pub async fn migrate_unknown(
    platform: &Platform,
    services: &Services,
    email: &str,
    password: &str,
    app: Option<&AppScope>,
    client: &Client,
) -> Result<Option<Migrated>, ApiError> {
    let Some(cognito) = services.cognito.as_ref() else {
        return Ok(None);
    };
    if Email::parse(email).is_none() {
        return Ok(None);
    }
    let exchange = match bounded_exchange(cognito, email, password).await {
        Ok(x) => x,
        Err(CognitoError::Rejected(kind)) => {
            tracing::debug!(%kind, "cognito refused the login");
            return Ok(None);
        }
        Err(CognitoError::ResetRequired) => {
            // nothing proves the caller knows the password: the answer stays the plain 401,
            // but the account exists locally from now on so the reset flow can reach it
            placeholder(platform, email, app, client, "password_reset_required").await?;
            return Ok(None);
        }
        Err(e @ CognitoError::Unavailable(_)) => {
            tracing::warn!(error = %e, "cognito unavailable; login refused with 503");
            return Err(ApiError::unavailable(e));
        }
    };
    let (legacy, groups) = match exchange {
        Exchange::Verified(legacy, groups) => (legacy, groups),
        Exchange::Challenge(name) => {
            let reason = if name == "NEW_PASSWORD_REQUIRED" {
                "force_change_password"
            } else {
                "mfa_enrolled"
            };
            placeholder(platform, email, app, client, reason).await?;
            return Err(reset_required());
        }
    };
    // the account must be this email's (a sign-in alias could name another address)
    let verified_email = profile::is_true(legacy.attribute("email_verified"));
    if let Some(theirs) = legacy.attribute("email")
        && !theirs.trim().eq_ignore_ascii_case(email)
    {
        tracing::warn!("cognito account's email differs from the login email; not migrated");
        return Ok(None);
    }
    let legacy_id = legacy
        .attribute("sub")
        .unwrap_or(legacy.username.as_str())
        .to_owned();
    // one migration per email at a time in this process: concurrent first logins (MIG-02)
    // wait here and then find the row, instead of each paying a bcrypt hash
    let gate = email_gate(email);
    let _turn = gate.lock().await;
    if let Some(user) = existing(platform, email, app).await? {
        return same_account(platform, user, &legacy_id, email, app).await;
    }
    let hash = match services.hasher.hash(password).await {
        Ok(h) => h,
        Err(HashError::TooLong) => {
            placeholder(platform, email, app, client, "password_too_long").await?;
            return Err(reset_required());
        }
        Err(e) => return Err(hashing(e)),
    };
    let (first, last) = profile::names(&legacy);
    let home = pools::home_pool(app);
    let new = MigratedUser {
        email,
        password_hash: Some(&hash),
        email_verified: verified_email,
        first_name: &first,
        last_name: &last,
        phone: legacy.attribute("phone_number").filter(|p| !p.is_empty()),
        namespace: &home,
    };
    let roles = profile::roles_for_groups(&groups);
    let created = create(platform, &new, app, client, &legacy_id, &groups, &roles).await?;
    match created {
        Ok(user) => Ok(Some(Migrated { user })),
        // the Cognito account already belongs to another local user
        Err(constraint) if constraint == "provider_user_unique" => Err(conflict(email, app)),
        // another instance's login of the same user won the race (MIG-02)
        Err(_) => match existing(platform, email, app).await? {
            Some(user) => same_account(platform, user, &legacy_id, email, app).await,
            None => Ok(None),
        },
    }
}

/// A user that appeared while this login talked to Cognito: the login goes on with it
/// (Cognito verified this password) only if it was migrated from the same Cognito account;
/// any other account under this email is a conflict.
async fn same_account(
    platform: &Platform,
    user: UserRow,
    legacy_id: &str,
    email: &str,
    app: Option<&AppScope>,
) -> Result<Option<Migrated>, ApiError> {
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    let linked = legacy::legacy_id(&mut conn, user.id)
        .await
        .map_err(internal)?;
    if linked.as_deref() == Some(legacy_id) {
        Ok(Some(Migrated { user }))
    } else {
        Err(conflict(email, app))
    }
}

/// §5.1 step 5 with the bridge on: the local password was wrong. If the user never came
/// from Cognito and Cognito logs them in with this password (tokens, not a challenge),
/// counts the failure, audits `login.legacy_migration_conflict` and answers 409
/// `LEGACY_MIGRATION_CONFLICT` (`details: {email, app_code}`). Otherwise (bridge off, a
/// migrated user, Cognito refusing or unreachable) `Ok`: the caller's ordinary
/// wrong-password path runs.
pub async fn check_conflict(
    platform: &Platform,
    services: &Services,
    user: &UserRow,
    password: &str,
    app: Option<&AppScope>,
    client: &Client,
) -> Result<(), ApiError> {
    let Some(cognito) = services.cognito.as_ref() else {
        return Ok(());
    };
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    if legacy::legacy_id(&mut conn, user.id)
        .await
        .map_err(internal)?
        .is_some()
    {
        return Ok(());
    }
    drop(conn);
    let accepted = tokio::time::timeout(
        cognito.timeout(),
        cognito.password_auth(&user.email, password),
    )
    .await;
    match accepted {
        // only a live Cognito login conflicts; a challenge means Cognito would not log the
        // user in either (a reset placeholder, an MFA account)
        Ok(Ok(AuthResult::Tokens { .. })) => {}
        Ok(Ok(AuthResult::Challenge { .. })) => return Ok(()),
        Ok(Err(CognitoError::Unavailable(cause))) => {
            tracing::warn!(%cause, "cognito unavailable for the conflict check");
            return Ok(());
        }
        Ok(Err(_)) => return Ok(()),
        Err(_) => {
            tracing::warn!("cognito timed out for the conflict check");
            return Ok(());
        }
    }
    let details = json!({
        "provider": legacy::COGNITO_PROVIDER,
        "app_code": app.map(|a| a.code.clone()),
    });
    fail_with_details(
        platform,
        user,
        client,
        AuditAction::LOGIN_LEGACY_MIGRATION_CONFLICT,
        details,
    )
    .await?;
    Err(conflict(&user.email, app))
}

/// The user with `email` in the app's readable pools, if one exists now.
async fn existing(
    platform: &Platform,
    email: &str,
    app: Option<&AppScope>,
) -> Result<Option<UserRow>, ApiError> {
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    users::find_in_pools(&mut conn, email, &pools::read_pools(app))
        .await
        .map_err(internal)
}

/// The in-process gate of one email's migration (entries go away with their last user).
fn email_gate(email: &str) -> Arc<tokio::sync::Mutex<()>> {
    type Gates = Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>;
    static GATES: LazyLock<Gates> = LazyLock::new(Gates::default);
    let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
    gates.retain(|_, gate| gate.strong_count() > 0);
    if let Some(gate) = gates.get(email).and_then(Weak::upgrade) {
        return gate;
    }
    let gate = Arc::new(tokio::sync::Mutex::new(()));
    gates.insert(email.to_owned(), Arc::downgrade(&gate));
    gate
}

/// `InitiateAuth`, then `GetUser` on success; the whole exchange within `COGNITO_TIMEOUT`.
async fn bounded_exchange(
    cognito: &CognitoClient,
    email: &str,
    password: &str,
) -> Result<Exchange, CognitoError> {
    let exchange = async {
        match cognito.password_auth(email, password).await? {
            AuthResult::Tokens { access_token } => {
                let legacy = cognito.get_user(&access_token).await?;
                Ok(Exchange::Verified(
                    legacy,
                    profile::groups_in_token(&access_token),
                ))
            }
            AuthResult::Challenge { name } => Ok(Exchange::Challenge(name)),
        }
    };
    tokio::time::timeout(cognito.timeout(), exchange)
        .await
        .unwrap_or_else(|_| Err(CognitoError::Unavailable("timed out".into())))
}

/// The user, its roles, pools, legacy link and audit event, in one commit. `Ok(Err(name))`:
/// a unique constraint `name` refused the rows (nothing was written).
async fn create(
    platform: &Platform,
    new: &MigratedUser<'_>,
    app: Option<&AppScope>,
    client: &Client,
    legacy_id: &str,
    groups: &[String],
    roles: &[&str],
) -> Result<Result<UserRow, String>, ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let rows = async {
        let user = legacy::insert_user(&mut tx, new).await?;
        for role in roles {
            users::add_base_role(&mut tx, user.id, role).await?;
        }
        if let Some(app) = app {
            users::tag_pools(&mut tx, user.id, &app.read_namespaces).await?;
        }
        legacy::link(&mut tx, user.id, legacy_id, &json!({ "groups": groups })).await?;
        Ok::<_, sqlx::Error>(user)
    }
    .await;
    let user = match rows {
        Ok(user) => user,
        Err(e) => {
            return match unique_violation(&e) {
                Some(constraint) => Ok(Err(constraint)),
                None => Err(internal(e)),
            };
        }
    };
    let event = client
        .event(AuditAction::USER_MIGRATED_FROM_LEGACY)
        .actor(user.id)
        .resource("user", Some(user.id))
        .details(json!({
            "provider": legacy::COGNITO_PROVIDER,
            "legacy_id": legacy_id,
            "groups": groups,
            "roles": roles,
            "email_verified": new.email_verified,
            "active": true,
            "app_code": app.map(|a| a.code.clone()),
        }));
    audit(&mut tx, &event).await?;
    match tx.commit().await {
        Ok(()) => Ok(Ok(user)),
        Err(e) => match unique_violation(&e) {
            Some(constraint) => Ok(Err(constraint)),
            None => Err(internal(e)),
        },
    }
}

/// A pending, password-less, unverified user for an account whose password cannot be
/// carried over: the reset flow (email possession) finishes the move. Audited as
/// `user.migrated_from_legacy` with `active: false`. A concurrent twin is fine.
async fn placeholder(
    platform: &Platform,
    email: &str,
    app: Option<&AppScope>,
    client: &Client,
    reason: &str,
) -> Result<(), ApiError> {
    let home = pools::home_pool(app);
    let new = MigratedUser {
        email,
        password_hash: None,
        email_verified: false,
        first_name: "",
        last_name: "",
        phone: None,
        namespace: &home,
    };
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = match legacy::insert_user(&mut tx, &new).await {
        Ok(user) => user,
        Err(e) if unique_violation(&e).is_some() => return Ok(()),
        Err(e) => return Err(internal(e)),
    };
    if let Some(app) = app {
        users::tag_pools(&mut tx, user.id, &app.read_namespaces)
            .await
            .map_err(internal)?;
    }
    let event = client
        .event(AuditAction::USER_MIGRATED_FROM_LEGACY)
        .actor(user.id)
        .resource("user", Some(user.id))
        .details(json!({
            "provider": legacy::COGNITO_PROVIDER,
            "active": false,
            "reason": reason,
            "app_code": app.map(|a| a.code.clone()),
        }));
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)
}

/// 403 `FORBIDDEN`: the password was right, but the account must set a new one first.
fn reset_required() -> ApiError {
    ApiError::forbidden(
        "Password reset required: request a password reset to finish moving this account",
    )
    .with_details(json!({ "reason": "password_reset_required" }))
}

/// 409 `LEGACY_MIGRATION_CONFLICT` with `details: {email, app_code}`.
fn conflict(email: &str, app: Option<&AppScope>) -> ApiError {
    ApiError::new(
        ErrorCode::LegacyMigrationConflict,
        "This email already has an account here with a different password",
    )
    .with_details(json!({ "email": email, "app_code": app.map(|a| a.code.clone()) }))
}
