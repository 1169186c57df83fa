//! SSO with PKCE (contract §2.6, §5.5; SECURITY B.7): the authorization URL with our own
//! `state`, `nonce` and S256 PKCE towards the provider; the callback that redeems the code,
//! resolves the account and signs in (or hands a PKCE client a one-shot `auth_code`); the
//! exchange of that code for tokens.
//!
//! - [`state`]: flow records and auth codes in the cache, PKCE checks.
//! - [`providers`]: endpoints, code exchange, identities (OIDC, user-info, Apple).
//! - [`account`]: linking, creation, account gates, second factor, issuance.
//! - [`redirect`]: the redirect allowlist.

pub mod account;
pub mod providers;
pub mod redirect;
pub mod state;

use auth_bus::AuditAction;
use auth_edge::ApiError;
use auth_host::Platform;
use chrono::Utc;
use oauth2::PkceCodeChallenge;
use uuid::Uuid;

use self::account::SecondFactor;
use self::state::{AuthCodeRecord, FlowRecord};
use crate::error::{internal, user_not_found};
use crate::flows::common::{Client, audit_alone, present, resolve_app};
use crate::flows::login::{LoginSuccess, check_account_state};
use crate::flows::register::join_invitation;
use crate::repo::{sso as repo, users};

/// `POST /auth/sso/url` input.
#[derive(Clone, Debug, Default)]
pub struct StartInput {
    /// Provider code.
    pub provider: String,
    /// Where the provider sends the browser back with `code` and `state`.
    pub redirect_url: Option<String>,
    /// Org scope.
    pub organization_id: Option<Uuid>,
    /// Invitation code.
    pub invite_code: Option<String>,
    /// App code (the `X-App-Code` header already applied over the body).
    pub app_code: Option<String>,
    /// The client's PKCE challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256` when a challenge is sent.
    pub code_challenge_method: Option<String>,
}

/// Starts a flow: returns `(auth_url, state)`.
pub async fn start(platform: &Platform, input: StartInput) -> Result<(String, String), ApiError> {
    let redirect_url = present(input.redirect_url.as_deref())
        .ok_or_else(|| ApiError::validation("redirect_url is required"))?
        .to_owned();
    let challenge = match (
        present(input.code_challenge.as_deref()),
        present(input.code_challenge_method.as_deref()),
    ) {
        (None, None) => None,
        (Some(c), Some("S256")) if state::pkce_shape_ok(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => {
            return Err(ApiError::invalid_input(
                "code_challenge",
                "code_challenge must be 43-128 characters of [A-Za-z0-9-._~]",
            ));
        }
        (_, None) => {
            return Err(ApiError::invalid_input(
                "code_challenge_method",
                "code_challenge_method is required with code_challenge (S256)",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid_input(
                "code_challenge_method",
                "only code_challenge_method S256 is supported",
            ));
        }
    };
    let settings = &platform.settings;
    let provider = providers::resolve(settings, &input.provider).await?;
    let app = resolve_app(platform, input.app_code.as_deref(), true).await?;
    let app_list = match &app {
        Some(app) => {
            let mut conn = platform.db.acquire().await.map_err(internal)?;
            repo::app_redirects(&mut conn, app.id)
                .await
                .map_err(internal)?
        }
        None => Vec::new(),
    };
    if !redirect::allowed(
        &redirect_url,
        &settings.sso.allowed_redirect_urls,
        &provider.config.redirect_url,
        &app_list,
    ) {
        return Err(ApiError::validation("redirect_url is not allowed"));
    }
    let state = state::random_token(32)?;
    let nonce = state::random_token(32)?;
    // SSO-09: a fresh 32-byte verifier from the CSPRNG, S256 only
    let (pkce, verifier) = PkceCodeChallenge::new_random_sha256();
    let auth_url = provider.authorize_url(&redirect_url, &state, &nonce, pkce)?;
    let record = FlowRecord {
        provider: provider.code.clone(),
        client_id: provider.config.client_id.clone(),
        redirect_uri: redirect_url,
        nonce,
        pkce_verifier: verifier.secret().clone(),
        code_challenge: challenge,
        organization_id: input.organization_id,
        invite_code: present(input.invite_code.as_deref()).map(str::to_owned),
        app_code: app.map(|a| a.code),
        created_at: Utc::now().timestamp(),
    };
    state::save_flow(&platform.cache, &state, &record).await?;
    Ok((auth_url, state))
}

/// `/auth/sso/callback` input (query, JSON or Apple's form_post).
#[derive(Clone, Debug, Default)]
pub struct CallbackInput {
    /// Provider code, when the client names it (must match the flow, SSO-03).
    pub provider: Option<String>,
    /// The provider's authorization code.
    pub code: Option<String>,
    /// Our state.
    pub state: Option<String>,
    /// App code fallback (body, then `X-App-Code`) when the flow has none.
    pub app_code: Option<String>,
    /// Invitation code fallback (body) when the flow has none.
    pub invite_code: Option<String>,
    /// RFC 9207 `iss` from the redirect, when the provider sends one.
    pub iss: Option<String>,
    /// Apple's first-consent `user` JSON.
    pub user: Option<String>,
    /// TOTP code for a user with 2FA on the non-PKCE path.
    pub two_factor_code: Option<String>,
}

/// What a callback ends in.
pub enum CallbackOutcome {
    /// Signed in (no PKCE).
    Login(Box<LoginSuccess>),
    /// PKCE: the one-shot code for `/auth/sso/exchange`.
    AuthCode(String),
    /// The account has TOTP and no (right) code came with a non-PKCE callback.
    TwoFactorRequired,
}

async fn audit_failure(platform: &Platform, client: &Client, provider: &str, err: &ApiError) {
    let Ok(action) = AuditAction::new("sso.failure") else {
        return;
    };
    let event = client.event(action).details(serde_json::json!({
        "provider": provider,
        "code": err.code.as_str(),
    }));
    if let Err(e) = audit_alone(platform, &event).await {
        tracing::warn!(error = ?e.cause(), "sso.failure not recorded");
    }
}

/// Completes a flow.
pub async fn callback(
    platform: &Platform,
    input: CallbackInput,
    client: &Client,
) -> Result<CallbackOutcome, ApiError> {
    let code = present(input.code.as_deref())
        .ok_or_else(|| ApiError::invalid_input("code", "code is required"))?;
    let state_value = present(input.state.as_deref())
        .ok_or_else(|| ApiError::invalid_input("state", "state is required"))?;
    let now = Utc::now().timestamp();
    let flow = state::take_flow(&platform.cache, state_value, now).await?;
    if let Some(named) = present(input.provider.as_deref())
        && !named.eq_ignore_ascii_case(&flow.provider)
    {
        return Err(state::invalid_state());
    }
    let settings = &platform.settings;
    let provider = providers::resolve(settings, &flow.provider).await?;
    if provider.config.client_id != flow.client_id {
        return Err(state::invalid_state());
    }
    // RFC 9207 / SSO-03: an issuer identifier in the redirect must be this provider's
    if let (Some(got), Some(expected)) = (present(input.iss.as_deref()), &provider.issuer)
        && !expected.contains('{')
        && got.trim_end_matches('/') != expected.trim_end_matches('/')
    {
        return Err(state::invalid_state());
    }
    let identity = async {
        let tokens = provider
            .exchange(settings, code, &flow.redirect_uri, &flow.pkce_verifier)
            .await?;
        provider
            .identity(settings, &tokens, &flow.nonce, input.user.as_deref())
            .await
    }
    .await;
    let identity = match identity {
        Ok(i) => i,
        Err(e) => {
            audit_failure(platform, client, &provider.code, &e).await;
            return Err(e);
        }
    };
    let app_code = flow.app_code.clone().or(input.app_code.clone());
    let app = resolve_app(platform, app_code.as_deref(), true).await?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = account::resolve_user(&mut tx, &provider, &identity, app.as_ref()).await?;
    check_account_state(&user)?;
    // §5.5: invitation acceptance happens at callback time; the joined org scopes the login
    // unless the flow named one
    let invite_code = flow.invite_code.as_deref().or(input.invite_code.as_deref());
    let joined = join_invitation(&mut tx, invite_code, None, user.id).await?;
    let organization_id = flow.organization_id.or(joined.map(|org| org.id));
    if let Some(challenge) = flow.code_challenge {
        // PKCE: link/creation and the login stamp now, tokens at the exchange
        users::record_success(&mut tx, user.id)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        let record = AuthCodeRecord {
            user_id: user.id,
            provider: provider.code.clone(),
            code_challenge: challenge,
            organization_id,
            app_code: app.map(|a| a.code),
            expires_at: now + i64::try_from(state::AUTH_CODE_TTL.as_secs()).unwrap_or(60),
        };
        let code = state::save_auth_code(&platform.cache, &record).await?;
        return Ok(CallbackOutcome::AuthCode(code));
    }
    let factor = account::second_factor(
        platform,
        &mut tx,
        &user,
        input.two_factor_code.as_deref(),
        client,
    )
    .await?;
    if matches!(factor, SecondFactor::Required) {
        // keep the link or new account: the provider did vouch for this identity
        tx.commit().await.map_err(internal)?;
        return Ok(CallbackOutcome::TwoFactorRequired);
    }
    let success = account::issue_login(
        &mut tx,
        platform,
        user,
        app,
        organization_id,
        &provider.code,
        client,
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok(CallbackOutcome::Login(Box::new(success)))
}

/// `POST /auth/sso/exchange` input.
#[derive(Clone, Debug, Default)]
pub struct ExchangeInput {
    /// The one-shot code from the callback.
    pub auth_code: String,
    /// The client's PKCE verifier.
    pub code_verifier: String,
    /// TOTP code for a user with 2FA.
    pub two_factor_code: Option<String>,
}

/// What an exchange ends in.
pub enum ExchangeOutcome {
    /// Signed in.
    Login(Box<LoginSuccess>),
    /// TOTP needed; the auth code stays usable for the rest of its minute.
    TwoFactorRequired,
}

/// Redeems an auth code (one-shot, S256 verifier) for a login, with user, roles and org
/// re-read now.
pub async fn exchange(
    platform: &Platform,
    input: ExchangeInput,
    client: &Client,
) -> Result<ExchangeOutcome, ApiError> {
    let verifier = input.code_verifier.trim();
    if !state::pkce_shape_ok(verifier) {
        return Err(ApiError::invalid_input(
            "code_verifier",
            "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]",
        ));
    }
    let now = Utc::now().timestamp();
    let code = input.auth_code.trim();
    let record = state::take_auth_code(&platform.cache, code, now).await?;
    if !state::pkce_matches(verifier, &record.code_challenge) {
        return Err(ApiError::invalid_input(
            "code_verifier",
            "code_verifier does not match the code_challenge",
        ));
    }
    // SSO-12: a provider disabled since the callback signs no one in
    let provider = providers::resolve(&platform.settings, &record.provider).await?;
    let app = resolve_app(platform, record.app_code.as_deref(), true).await?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = users::lock_by_id(&mut tx, record.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(user_not_found)?;
    check_account_state(&user)?;
    let factor = account::second_factor(
        platform,
        &mut tx,
        &user,
        input.two_factor_code.as_deref(),
        client,
    )
    .await?;
    if matches!(factor, SecondFactor::Required) {
        drop(tx);
        state::restore_auth_code(&platform.cache, code, &record, now).await?;
        return Ok(ExchangeOutcome::TwoFactorRequired);
    }
    let success = account::issue_login(
        &mut tx,
        platform,
        user,
        app,
        record.organization_id,
        &provider.code,
        client,
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok(ExchangeOutcome::Login(Box::new(success)))
}
