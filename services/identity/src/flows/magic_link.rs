//! Magic links (§2.5, §5.6): a one-time sign-in link by mail. Only `POST
//! /auth/magic-link/verify` consumes a link (a mail scanner's GET cannot, ML-05); consuming
//! is one conditional update in the same transaction that issues the tokens (ML-01).

use std::time::Duration;

use auth_bus::AuditAction;
use auth_cache::Fallback;
use auth_edge::ApiError;
use auth_host::Platform;
use auth_mail::Mail;
use auth_tokens::{AppScope, TokenPair};
use base64::Engine as _;
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::common::{Client, IssueOptions, audit, audit_alone, issue, random_bytes, resolve_app};
use super::email::{link_base, token_hash};
use super::login::{ensure_grant, fail};
use super::totp::take_code;
use crate::domain::{Email, pools};
use crate::error::{claims, internal, suspended, token_invalid};
use crate::repo::tokens::{self, NewMagicLink};
use crate::repo::users::{self, UserRow};
use crate::state::Services;

/// How long a link works (§5.6).
pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// Random bytes behind a link: 36 bytes are 48 URL-safe characters (288 bits, ML-03).
const TOKEN_BYTES: usize = 36;
/// Requests per address and hour (known or not, so the limit reveals nothing, ML-09).
pub const REQUESTS_PER_HOUR: u64 = 5;
/// Longest token worth hashing.
const MAX_TOKEN_LEN: usize = 256;

/// `POST /auth/magic-link/request`: a link for a known, usable account in the app's pools;
/// a silent no-op otherwise. A malformed email is 400 `INVALID_INPUT`.
pub async fn request(
    platform: &Platform,
    services: &Services,
    email: &str,
    app_code: Option<&str>,
    client: &Client,
) -> Result<(), ApiError> {
    let email = Email::parse(email)
        .ok_or_else(|| ApiError::invalid_input("email", "invalid email address"))?;
    let key = format!(
        "magic_link_requests:{}",
        hex::encode(Sha256::digest(email.as_str().as_bytes()))
    );
    let hour = Duration::from_secs(3600);
    if let Ok(Some(c)) = platform
        .cache
        .incr_window(&key, hour, Fallback::Memory)
        .await
        && c.count > REQUESTS_PER_HOUR
    {
        return Err(
            ApiError::rate_limited("Too many sign-in links requested for this address")
                .with_details(serde_json::json!({ "retry_after": c.resets_in.as_secs() })),
        );
    }
    // an unknown or inactive app, or one that does not allow magic links, sends nothing
    let app = match resolve_app(platform, app_code, true).await {
        Ok(app) => app,
        Err(_) => return Ok(()),
    };
    if app.as_ref().is_some_and(|a| {
        !a.allowed_auth_methods.is_empty()
            && !a.allowed_auth_methods.iter().any(|m| m == "magic_link")
    }) {
        return Ok(());
    }
    let read = app.as_ref().map(|a| pools::read_pools(Some(a)));
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = users::find_live_by_email(&mut tx, email.as_str(), read.as_deref())
        .await
        .map_err(internal)?;
    let app_code = app.as_ref().map(|a| a.code.clone());
    let Some(user) = user else {
        let event = client
            .event(AuditAction::MAGIC_LINK_REQUEST_UNKNOWN)
            .details(serde_json::json!({ "app_code": app_code }));
        audit(&mut tx, &event).await?;
        return tx.commit().await.map_err(internal);
    };
    if !matches!(user.status.as_str(), "pending" | "active") {
        let event = client
            .event(AuditAction::MAGIC_LINK_REQUESTED)
            .actor(user.id)
            .details(
                serde_json::json!({ "app_code": app_code, "sent": false, "reason": user.status }),
            );
        audit(&mut tx, &event).await?;
        return tx.commit().await.map_err(internal);
    }
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(TOKEN_BYTES)?);
    let hash = token_hash(&token);
    let expires_at = Utc::now() + chrono::Duration::from_std(LINK_TTL).map_err(internal)?;
    let row = NewMagicLink {
        user: user.id,
        email: &user.email,
        token_hash: &hash,
        app_code: app_code.as_deref(),
        expires_at,
        ip: client.ip.as_deref(),
        user_agent: client.user_agent.as_deref(),
    };
    tokens::insert_magic(&mut tx, &row)
        .await
        .map_err(internal)?;
    let event = client
        .event(AuditAction::MAGIC_LINK_REQUESTED)
        .actor(user.id)
        .details(serde_json::json!({ "app_code": app_code, "sent": true }));
    audit(&mut tx, &event).await?;
    let base = link_base(&mut tx, platform, app_code.as_deref()).await?;
    tx.commit().await.map_err(internal)?;
    let mail = Mail {
        to: user.email.clone(),
        subject: "Your sign-in link".to_owned(),
        text: format!(
            "Hello {},\n\nOpen this link to sign in:\n\n{base}/auth/magic-link/verify?token={token}\n\n\
             The link works once and expires in {} minutes. If you did not ask for it, ignore \
             this message.\n",
            user.first_name,
            LINK_TTL.as_secs() / 60
        ),
    };
    send_in_background(platform, services, mail, user.id, client);
    Ok(())
}

/// Sends the link after commit; a failed delivery is audited as `magic_link.email_failed`.
fn send_in_background(
    platform: &Platform,
    services: &Services,
    mail: Mail,
    user: uuid::Uuid,
    client: &Client,
) {
    let (platform, mailer, client) = (platform.clone(), services.mailer.clone(), client.clone());
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(error = %e, "magic link not delivered");
            let event = client
                .event(AuditAction::MAGIC_LINK_EMAIL_FAILED)
                .actor(user)
                .details(serde_json::json!({ "error": e.to_string() }));
            if let Err(e) = audit_alone(&platform, &event).await {
                tracing::warn!(error = ?e.cause(), "magic_link.email_failed not recorded");
            }
        }
    });
}

/// What a verification ends in besides errors.
#[derive(Debug)]
pub enum VerifyOutcome {
    /// Signed in.
    Success(Box<(UserRow, TokenPair)>),
    /// The account has TOTP and the code was missing or wrong: the link is kept.
    TwoFactorRequired,
}

fn link_invalid() -> ApiError {
    token_invalid("Magic link is invalid or has expired")
}

/// `POST /auth/magic-link/verify`: consumes the link and signs the user in with base roles
/// (plus the link's app scope when that app is active). Unknown, used or expired: 401
/// `TOKEN_INVALID`; suspended or locked: 403 `USER_SUSPENDED`. A user with TOTP must also
/// send `two_factor_code` (MFA-09); until then the link stays unused.
pub async fn verify(
    platform: &Platform,
    token: &str,
    two_factor_code: Option<&str>,
    client: &Client,
) -> Result<VerifyOutcome, ApiError> {
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(link_invalid());
    }
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let link = tokens::consume_magic(&mut tx, &token_hash(token))
        .await
        .map_err(internal)?
        .ok_or_else(link_invalid)?;
    let user = users::lock_by_id(&mut tx, link.user_id)
        .await
        .map_err(internal)?
        .filter(|u| !u.is_deleted())
        .ok_or_else(link_invalid)?;
    if user.locked_at(Utc::now()) {
        return Err(suspended(
            "Account is temporarily locked due to too many failed login attempts",
        ));
    }
    if user.status == "suspended" {
        return Err(suspended("Account is suspended"));
    }
    if user.totp_active() {
        let code = two_factor_code.map(str::trim).unwrap_or_default();
        if code.is_empty() {
            return Ok(VerifyOutcome::TwoFactorRequired);
        }
        let sealer = crate::state::totp_sealer(&platform.settings);
        if !take_code(&mut tx, &sealer, &user, code).await? {
            drop(tx);
            fail(
                platform,
                &user,
                client,
                AuditAction::TWO_FA_FAILED,
                "invalid_totp",
            )
            .await?;
            return Ok(VerifyOutcome::TwoFactorRequired);
        }
        audit(
            &mut tx,
            &client.event(AuditAction::TWO_FA_VERIFIED).actor(user.id),
        )
        .await?;
    }
    let app = link_app(&mut tx, link.app_code.as_deref()).await?;
    if let Some(app) = &app {
        ensure_grant(&mut tx, &user, app, &Default::default(), client).await?;
    }
    // the link proves the mailbox: verify the address it was sent to
    users::mark_verified(&mut tx, user.id, &link.email)
        .await
        .map_err(internal)?;
    users::record_success(&mut tx, user.id)
        .await
        .map_err(internal)?;
    let user = users::find_by_id(&mut tx, user.id)
        .await
        .map_err(internal)?
        .ok_or_else(link_invalid)?;
    let grants = auth_tokens::assemble(&mut tx, user.id, app.as_ref(), None)
        .await
        .map_err(claims)?;
    let options = IssueOptions {
        remember_me: false,
        device: client.device(),
        impersonator: None,
    };
    let issued = issue(&mut tx, platform, &user, grants, app.clone(), options).await?;
    let event = client
        .event(AuditAction::MAGIC_LINK_CONSUMED)
        .actor(user.id)
        .resource("session", Some(issued.session_id))
        .details(serde_json::json!({
            "magic_link_id": link.id,
            "app_code": app.as_ref().map(|a| a.code.clone()),
        }));
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)?;
    Ok(VerifyOutcome::Success(Box::new((user, issued.tokens))))
}

/// The link's app when it still exists and is active (§5.6); otherwise base scope.
async fn link_app(
    conn: &mut sqlx::PgConnection,
    code: Option<&str>,
) -> Result<Option<AppScope>, ApiError> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(auth_tokens::load_app(conn, code)
        .await
        .map_err(internal)?
        .filter(AppScope::is_active))
}
