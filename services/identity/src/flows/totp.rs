//! TOTP second factor (§2.4, §5.8): setup, enable with the first code, disable with the
//! password and a code. The login challenge itself is step 6 of [`super::login`].

use auth_bus::{AuditAction, bump_token_version_in_tx};
use auth_edge::ApiError;
use auth_host::Platform;
use chrono::Utc;
use uuid::Uuid;

use super::common::{Client, audit, audit_alone, random_bytes};
use super::login::fail;
use super::password::publish_bump;
use crate::domain::totp;
use crate::domain::totp_seal::TotpSealer;
use crate::error::{hashing, internal, invalid_credentials, suspended, user_not_found};
use crate::repo::users::{self, UserRow};
use crate::state::Services;

/// What `POST /auth/2fa/setup` shows once.
#[derive(Debug)]
pub struct Setup {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://totp/Vendidit:<email>?...`.
    pub provisioning_uri: String,
}

async fn live_user(platform: &Platform, id: Uuid) -> Result<UserRow, ApiError> {
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    users::find_by_id(&mut conn, id)
        .await
        .map_err(internal)?
        .filter(|u| !u.is_deleted())
        .ok_or_else(user_not_found)
}

fn already_active() -> ApiError {
    ApiError::validation("Two-factor authentication is already enabled")
}

fn wrong_code() -> ApiError {
    ApiError::invalid_input("code", "Invalid two-factor code")
}

fn now_secs() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or_default()
}

/// `POST /auth/2fa/setup`: a fresh 160-bit secret from the OS CSPRNG, stored unconfirmed and
/// sealed (MFA-08; a pending setup is replaced). The secret and URI exist in clear only in
/// this reply: nothing can read them back later. 400 `VALIDATION_ERROR` when TOTP is already
/// active.
pub async fn setup(
    platform: &Platform,
    sealer: &TotpSealer,
    user_id: Uuid,
    client: &Client,
) -> Result<Setup, ApiError> {
    let user = live_user(platform, user_id).await?;
    if user.totp_active() {
        return Err(already_active());
    }
    let secret = totp::encode_secret(&random_bytes(totp::SECRET_BYTES)?);
    let sealed = sealer.seal(user.id, &secret).map_err(internal)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    if !crate::repo::totp::start_setup(&mut tx, user.id, &sealed)
        .await
        .map_err(internal)?
    {
        return Err(already_active());
    }
    audit(
        &mut tx,
        &client
            .event(AuditAction::TWO_FA_SETUP_STARTED)
            .actor(user.id),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok(Setup {
        provisioning_uri: totp::provisioning_uri(&secret, &user.email),
        secret,
    })
}

/// `POST /auth/2fa/enable`: the first valid code confirms the pending setup. No pending
/// setup (or already active): 400 `VALIDATION_ERROR`; a wrong or replayed code: 400
/// `INVALID_INPUT` and `2fa.failed`.
pub async fn enable(
    platform: &Platform,
    sealer: &TotpSealer,
    user_id: Uuid,
    code: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = users::lock_by_id(&mut tx, user_id)
        .await
        .map_err(internal)?
        .filter(|u| !u.is_deleted())
        .ok_or_else(user_not_found)?;
    if user.totp_active() {
        return Err(already_active());
    }
    let pending = user.two_factor_enabled == Some(true) && user.two_factor_confirmed_at.is_none();
    if !pending || user.two_factor_secret.is_none() {
        return Err(ApiError::validation(
            "No pending two-factor setup: call /auth/2fa/setup first",
        ));
    }
    if !take_code(&mut tx, sealer, &user, code).await? {
        drop(tx);
        let event = client
            .event(AuditAction::TWO_FA_FAILED)
            .actor(user.id)
            .details(serde_json::json!({ "reason": "invalid_totp", "stage": "enable" }));
        audit_alone(platform, &event).await?;
        return Err(wrong_code());
    }
    crate::repo::totp::confirm(&mut tx, user.id)
        .await
        .map_err(internal)?;
    audit(
        &mut tx,
        &client.event(AuditAction::TWO_FA_ENABLED).actor(user.id),
    )
    .await?;
    tx.commit().await.map_err(internal)
}

/// `POST /auth/2fa/disable`: password and a current code, then the secret is cleared and
/// the token version bumped (every access token of the user dies, §9.15). A wrong password
/// or code counts toward the lockout like a failed login.
pub async fn disable(
    platform: &Platform,
    services: &Services,
    user_id: Uuid,
    password: &str,
    code: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let user = live_user(platform, user_id).await?;
    if !user.totp_active() {
        return Err(ApiError::validation(
            "Two-factor authentication is not enabled",
        ));
    }
    if user.locked_at(Utc::now()) {
        return Err(suspended(
            "Account is temporarily locked due to too many failed login attempts",
        ));
    }
    let ok = services
        .hasher
        .verify(password, user.password_hash.as_deref())
        .await
        .map_err(hashing)?;
    if !ok {
        fail(
            platform,
            &user,
            client,
            AuditAction::TWO_FA_FAILED,
            "invalid_password",
        )
        .await?;
        return Err(invalid_credentials());
    }
    let mut tx = platform.db.begin().await.map_err(internal)?;
    if !take_code(&mut tx, &services.totp, &user, code).await? {
        drop(tx);
        fail(
            platform,
            &user,
            client,
            AuditAction::TWO_FA_FAILED,
            "invalid_totp",
        )
        .await?;
        return Err(wrong_code());
    }
    crate::repo::totp::clear(&mut tx, user.id)
        .await
        .map_err(internal)?;
    let bump = bump_token_version_in_tx(&mut tx, user.id)
        .await
        .map_err(internal)?;
    audit(
        &mut tx,
        &client.event(AuditAction::TWO_FA_DISABLED).actor(user.id),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    publish_bump(platform, bump).await;
    Ok(())
}

/// Checks `code` against the user's stored seed (±1 step, later than the last accepted
/// step) and takes its step with one compare-and-set update (MFA-03..05). A seed stored in
/// clear (imported) or under an older key is re-sealed under the current key in the same
/// transaction once a code was accepted (MFA-08). `false`: wrong, replayed or raced, or no
/// usable seed (logged).
pub async fn take_code(
    conn: &mut sqlx::PgConnection,
    sealer: &TotpSealer,
    user: &UserRow,
    code: &str,
) -> Result<bool, ApiError> {
    let Some(stored) = user.two_factor_secret.as_deref() else {
        return Ok(false);
    };
    let opened = match sealer.open(user.id, stored) {
        Ok(opened) => opened,
        Err(e) => {
            tracing::error!(user_id = %user.id, error = %e, "TOTP seed unusable");
            return Ok(false);
        }
    };
    let Some(step) = totp::accepted_step(
        &opened.secret_b32,
        code,
        now_secs(),
        user.two_factor_last_step,
    ) else {
        return Ok(false);
    };
    if !users::take_totp_step(&mut *conn, user.id, step)
        .await
        .map_err(internal)?
    {
        return Ok(false);
    }
    if opened.needs_reseal {
        let sealed = sealer.seal(user.id, &opened.secret_b32).map_err(internal)?;
        crate::repo::totp::reseal(conn, user.id, stored, &sealed)
            .await
            .map_err(internal)?;
    }
    Ok(true)
}
