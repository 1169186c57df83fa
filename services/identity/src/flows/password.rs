//! Password reset (request, reset), change, and the admin's set-password (§2.1, §2.3).

use auth_bus::{AuditAction, bump_token_version_in_tx};
use auth_edge::ApiError;
use auth_host::{Platform, RedisTokenVersionMirror};
use auth_mail::Mail;
use jwt_verify::Purpose;
use uuid::Uuid;

use super::common::{Client, audit, audit_alone, present, resolve_app};
use super::email::{link_base, purpose_error, send_later, token_hash};
use crate::domain::{Email, check_policy, pools};
use crate::error::{hashing, internal, invalid_credentials, token_invalid, user_not_found};
use crate::repo::{tokens, users};
use crate::state::Services;

/// The policy check as the API reports it (400 `VALIDATION_ERROR`).
pub fn policy(platform: &Platform, password: &str) -> Result<(), ApiError> {
    check_policy(password, &platform.settings.auth.password)
        .map_err(|p| ApiError::validation(p.to_string()))
}

/// `POST /auth/password/reset-request`: always succeeds; a usable account gets a mail.
pub async fn request_reset(
    platform: &Platform,
    services: &Services,
    email: &str,
    app_code: Option<&str>,
) -> Result<(), ApiError> {
    let Some(email) = Email::parse(email) else {
        return Ok(());
    };
    // an unknown or inactive app falls back to the default pool and CLIENT_URL, silently
    let app = resolve_app(platform, app_code, true).await.ok().flatten();
    let read = pools::read_pools(app.as_ref());
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = users::find_live_by_email(&mut tx, email.as_str(), Some(&read))
        .await
        .map_err(internal)?;
    let Some(user) = user.filter(|u| matches!(u.status.as_str(), "pending" | "active")) else {
        return Ok(());
    };
    let ttl = platform.settings.auth.password_reset_expiry;
    let id = Uuid::new_v4();
    let token = platform
        .signer
        .sign_purpose(Purpose::PasswordReset, user.id, &user.email, id, ttl)
        .map_err(internal)?;
    let expires = chrono::Utc::now() + chrono::Duration::from_std(ttl).map_err(internal)?;
    tokens::insert_reset(&mut tx, id, user.id, &token_hash(&token), expires)
        .await
        .map_err(internal)?;
    let base = link_base(&mut tx, platform, app.as_ref().map(|a| a.code.as_str())).await?;
    tx.commit().await.map_err(internal)?;
    let minutes = ttl.as_secs() / 60;
    let mail = Mail {
        to: user.email.clone(),
        subject: "Reset your password".to_owned(),
        text: format!(
            "Hello {},\n\nSomeone asked to reset the password of your account. To choose a new \
             password, open this link:\n\n{base}/auth/reset?token={token}\n\nThe link expires in \
             {minutes} minutes and works once. If you did not ask for this, ignore this message.\n",
            user.first_name
        ),
    };
    send_later(services, mail, "password reset");
    Ok(())
}

/// `POST /auth/password/reset`: consumes the token, sets the password, ends every session
/// and bumps the token version (`password.reset` and `logout.all` audited).
pub async fn reset(
    platform: &Platform,
    services: &Services,
    token: &str,
    new_password: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let token = token.trim();
    let claims = platform
        .verifier
        .verify_purpose(token, Purpose::PasswordReset)
        .map_err(|e| purpose_error(&e))?;
    let (Ok(id), Ok(user)) = (Uuid::parse_str(&claims.jti), Uuid::parse_str(&claims.uid)) else {
        return Err(token_invalid("Token is invalid"));
    };
    policy(platform, new_password)?;
    let hash = services.hasher.hash(new_password).await.map_err(hashing)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    if !tokens::consume_reset(&mut tx, id, user, &token_hash(token))
        .await
        .map_err(internal)?
    {
        return Err(token_invalid("Token is invalid or has already been used"));
    }
    if !users::set_password(&mut tx, user, &hash)
        .await
        .map_err(internal)?
    {
        return Err(token_invalid("Token is invalid"));
    }
    users::clear_lock_after_reset(&mut tx, user)
        .await
        .map_err(internal)?;
    users::end_all_sessions(&mut tx, user)
        .await
        .map_err(internal)?;
    let bump = bump_token_version_in_tx(&mut tx, user)
        .await
        .map_err(internal)?;
    audit(
        &mut tx,
        &client.event(AuditAction::PASSWORD_RESET).actor(user),
    )
    .await?;
    let logout = client
        .event(AuditAction::LOGOUT_ALL)
        .actor(user)
        .details(serde_json::json!({ "reason": "password_reset" }));
    audit(&mut tx, &logout).await?;
    tx.commit().await.map_err(internal)?;
    publish_bump(platform, bump).await;
    Ok(())
}

/// Publishes a committed token-version bump (NATS KV, Redis mirror), best effort.
pub async fn publish_bump(platform: &Platform, bump: auth_bus::TokenVersionBump) {
    let mirror = RedisTokenVersionMirror::new(platform.cache.clone());
    bump.publish_after_commit(Some(&platform.bus), Some(&mirror))
        .await;
}

/// `POST /auth/password/change`: the current password, then the new one (sessions stay).
pub async fn change(
    platform: &Platform,
    services: &Services,
    user_id: Uuid,
    current: &str,
    new_password: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let user = {
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        users::find_by_id(&mut conn, user_id)
            .await
            .map_err(internal)?
    }
    .filter(|u| !u.is_deleted())
    .ok_or_else(user_not_found)?;
    let ok = services
        .hasher
        .verify(current, user.password_hash.as_deref())
        .await
        .map_err(hashing)?;
    if !ok {
        let event = client
            .event(AuditAction::PASSWORD_CHANGE)
            .actor(user.id)
            .details(serde_json::json!({ "outcome": "invalid_current_password" }));
        audit_alone(platform, &event).await?;
        return Err(invalid_credentials());
    }
    policy(platform, new_password)?;
    let hash = services.hasher.hash(new_password).await.map_err(hashing)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    users::set_password(&mut tx, user.id, &hash)
        .await
        .map_err(internal)?;
    audit(
        &mut tx,
        &client.event(AuditAction::PASSWORD_CHANGE).actor(user.id),
    )
    .await?;
    tx.commit().await.map_err(internal)
}

/// `POST /auth/admin/set-password` (system_admin): sets another user's password.
pub async fn admin_set(
    platform: &Platform,
    services: &Services,
    admin: Uuid,
    user_id: &str,
    new_password: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let user = Uuid::parse_str(user_id.trim())
        .map_err(|_| ApiError::invalid_input("user_id", "invalid user_id"))?;
    let min = platform.settings.auth.password.min_length;
    if u32::try_from(new_password.chars().count()).unwrap_or(u32::MAX) < min {
        return Err(ApiError::validation(format!(
            "password must be at least {min} characters long"
        )));
    }
    if new_password.len() > crate::domain::password::BCRYPT_MAX_BYTES {
        return Err(ApiError::validation(
            "password must be at most 72 bytes (UTF-8); longer passwords would be truncated by bcrypt",
        ));
    }
    let hash = services.hasher.hash(new_password).await.map_err(hashing)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    if !users::set_password(&mut tx, user, &hash)
        .await
        .map_err(internal)?
    {
        return Err(user_not_found());
    }
    let event = client
        .event(AuditAction::PASSWORD_CHANGE)
        .actor(admin)
        .subject_user(user)
        .details(serde_json::json!({ "by": "admin" }));
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)
}

/// The app code of a request: the `X-App-Code` header wins over the body (§1).
#[must_use]
pub fn app_code_header_first(header: Option<String>, body: Option<&str>) -> Option<String> {
    header.or_else(|| present(body).map(str::to_owned))
}
