//! Email verification (send, resend, verify) and the link and message texts of every
//! mail the service sends (§2.3 link formats).

use auth_edge::ApiError;
use auth_host::Platform;
use auth_mail::Mail;
use jwt_verify::{Purpose, VerifyError};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::common::present;
use crate::domain::Email;
use crate::error::{internal, token_invalid};
use crate::repo::tokens;
use crate::repo::users::UserRow;
use crate::state::Services;

/// SHA-256 hex of a token, as stored.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Base of links in mail: the app's `frontend_url`, else `CLIENT_URL`, else empty
/// (the link is then a path). Never taken from request headers (ML-04).
pub async fn link_base(
    conn: &mut PgConnection,
    platform: &Platform,
    app_code: Option<&str>,
) -> Result<String, ApiError> {
    let from_app = match present(app_code) {
        Some(code) => auth_tokens::app_frontend_url(conn, code)
            .await
            .map_err(internal)?,
        None => None,
    };
    let base = from_app
        .or_else(|| platform.settings.email.client_url.clone())
        .unwrap_or_default();
    Ok(base.trim_end_matches('/').to_owned())
}

/// A verification mail ready to send after commit.
#[derive(Debug)]
pub struct VerificationMail(pub Mail);

/// Stores a verification token for the user's address and builds its mail.
pub async fn create_verification(
    conn: &mut PgConnection,
    platform: &Platform,
    user: &UserRow,
    app_code: Option<&str>,
) -> Result<VerificationMail, ApiError> {
    let ttl = platform.settings.auth.email_verification_expiry;
    let id = Uuid::new_v4();
    let token = platform
        .signer
        .sign_purpose(Purpose::EmailVerification, user.id, &user.email, id, ttl)
        .map_err(internal)?;
    let expires = chrono::Utc::now() + chrono::Duration::from_std(ttl).map_err(internal)?;
    tokens::insert_verification(conn, id, user.id, &user.email, &token_hash(&token), expires)
        .await
        .map_err(internal)?;
    let base = link_base(conn, platform, app_code).await?;
    let hours = ttl.as_secs() / 3600;
    Ok(VerificationMail(Mail {
        to: user.email.clone(),
        subject: "Verify your email address".to_owned(),
        text: format!(
            "Hello {},\n\nPlease confirm your email address by opening this link:\n\n\
             {base}/auth/verify-email?token={token}\n\nThe link expires in {hours} hours. \
             If you did not create an account, ignore this message.\n",
            user.first_name
        ),
    }))
}

/// Sends `mail` in the background (the reply never waits for, or reveals, delivery).
pub fn send_later(services: &Services, mail: Mail, what: &'static str) {
    let mailer = services.mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(error = %e, what, "mail not delivered");
        }
    });
}

/// The purpose-token error as the contract names it (§2.3): expired or invalid.
pub fn purpose_error(e: &VerifyError) -> ApiError {
    match e {
        VerifyError::Expired => {
            ApiError::new(auth_edge::ErrorCode::TokenExpired, "Token has expired")
        }
        _ => token_invalid("Token is invalid"),
    }
}

/// `POST|GET /auth/verify-email`: consumes the token, verifies the address and activates
/// a pending account.
pub async fn verify_email(platform: &Platform, token: &str) -> Result<(), ApiError> {
    let claims = platform
        .verifier
        .verify_purpose(token.trim(), Purpose::EmailVerification)
        .map_err(|e| purpose_error(&e))?;
    let (Ok(id), Ok(user)) = (Uuid::parse_str(&claims.jti), Uuid::parse_str(&claims.uid)) else {
        return Err(token_invalid("Token is invalid"));
    };
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let email = tokens::consume_verification(&mut tx, id, user, &token_hash(token.trim()))
        .await
        .map_err(internal)?
        .ok_or_else(|| token_invalid("Token is invalid or has already been used"))?;
    crate::repo::users::mark_verified(&mut tx, user, &email)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)
}

/// `POST /auth/verify-email/resend`: a new mail for an unverified, usable account; a
/// silent no-op otherwise.
pub async fn resend(
    platform: &Platform,
    services: &Services,
    email: &str,
    app_code: Option<&str>,
) -> Result<(), ApiError> {
    if email.trim().is_empty() {
        return Err(ApiError::invalid_input("email", "email is required"));
    }
    let Some(email) = Email::parse(email) else {
        return Ok(());
    };
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = crate::repo::users::find_live_by_email(&mut tx, email.as_str(), None)
        .await
        .map_err(internal)?;
    let Some(user) = user.filter(|u| {
        u.email_verified != Some(true) && matches!(u.status.as_str(), "pending" | "active")
    }) else {
        return Ok(());
    };
    let mail = create_verification(&mut tx, platform, &user, app_code).await?;
    tx.commit().await.map_err(internal)?;
    send_later(services, mail.0, "verification");
    Ok(())
}
