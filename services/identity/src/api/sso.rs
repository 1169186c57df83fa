//! SSO routes (contract §2.6, §5.5): providers, authorization URL, callback (query, JSON or
//! Apple's form_post) and the PKCE exchange.

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Form, Json};
use poem_openapi::{ApiRequest, ApiResponse, Object, OpenApi, Union};
use serde::Deserialize;

use super::ApiTags;
use super::dto::{LoginResponseBody, optional_uuid};
use super::login::TwoFactorChallenge;
use crate::flows::common::{Client, header_value, present};
use crate::flows::sso::{
    self, CallbackInput, CallbackOutcome, ExchangeInput, ExchangeOutcome, StartInput, providers,
    state::AUTH_CODE_TTL,
};

/// An enabled SSO provider.
#[derive(Debug, Object)]
pub struct SsoProviderInfo {
    /// Display label (`Google`, `GitHub`, ...).
    pub name: String,
    /// Provider code to send as `provider`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Always true (only enabled providers are listed).
    pub enabled: bool,
}

/// `POST /auth/sso/url` request.
#[derive(Debug, Object)]
pub struct SsoUrlRequest {
    /// Provider code: `google`, `apple`, `microsoft`, `github`, `facebook`, `linkedin`, or
    /// a custom provider's code.
    pub provider: String,
    /// Where the provider sends the browser back (must be allowlisted).
    pub redirect_url: Option<String>,
    /// Scope the tokens to this organisation.
    pub organization_id: Option<String>,
    /// Invitation code.
    pub invite_code: Option<String>,
    /// App code (`X-App-Code` wins).
    pub app_code: Option<String>,
    /// The client's PKCE challenge (43-128 characters).
    pub code_challenge: Option<String>,
    /// `S256` (the only method).
    pub code_challenge_method: Option<String>,
}

/// `POST /auth/sso/url` reply.
#[derive(Debug, Object)]
pub struct SsoUrlResponse {
    /// Send the browser here.
    pub auth_url: String,
    /// Our state (10 minutes, single use).
    pub state: String,
}

/// `POST /auth/sso/callback` fields (JSON or form).
#[derive(Debug, Object, Deserialize)]
pub struct SsoCallbackRequest {
    /// Provider code (optional; must match the flow).
    pub provider: Option<String>,
    /// The provider's authorization code.
    pub code: Option<String>,
    /// Our state.
    pub state: Option<String>,
    /// Ignored: the organisation given to `/auth/sso/url` applies.
    pub organization_id: Option<String>,
    /// Invitation code, when `/auth/sso/url` was given none (accepted at callback time).
    pub invite_code: Option<String>,
    /// App code fallback when the flow has none.
    pub app_code: Option<String>,
    /// Apple's first-consent `user` JSON (name).
    pub user: Option<String>,
    /// 6-digit TOTP code (non-PKCE flows of users with 2FA).
    pub two_factor_code: Option<String>,
    /// The provider's issuer identifier (RFC 9207), when it adds one to the redirect: it
    /// must be the flow's provider's issuer.
    pub iss: Option<String>,
}

/// Callback body: JSON, or Apple's `application/x-www-form-urlencoded` form_post.
#[derive(ApiRequest)]
pub enum SsoCallbackBody {
    /// JSON.
    Json(Json<SsoCallbackRequest>),
    /// Form post.
    Form(Form<SsoCallbackRequest>),
}

/// The PKCE hand-off code.
#[derive(Debug, Object)]
pub struct SsoAuthCodeResponse {
    /// One-shot code for `POST /auth/sso/exchange`.
    pub auth_code: String,
    /// Seconds the code lives (60).
    pub expires_in: u64,
    /// Same value (§9.10).
    pub auth_code_expires_in: u64,
}

/// A callback's success: a login (no PKCE) or an auth code (PKCE).
#[derive(Debug, Union)]
#[oai(one_of)]
#[allow(clippy::large_enum_variant)] // built once per request
pub enum SsoCallbackResult {
    /// Signed in.
    Login(LoginResponseBody),
    /// Redeem at `/auth/sso/exchange`.
    AuthCode(SsoAuthCodeResponse),
}

/// `POST /auth/sso/exchange` request.
#[derive(Debug, Object)]
pub struct SsoExchangeRequest {
    /// The code from the callback.
    pub auth_code: String,
    /// The PKCE verifier (43-128 characters of `[A-Za-z0-9-._~]`).
    pub code_verifier: String,
    /// 6-digit TOTP code when the account has 2FA.
    pub two_factor_code: Option<String>,
}

/// Replies of `GET /auth/sso/providers`.
#[derive(ApiResponse)]
pub enum ProvidersResponse {
    /// Enabled providers.
    #[oai(status = 200)]
    Ok(Json<Vec<SsoProviderInfo>>),
}

/// Replies of `POST /auth/sso/url`.
#[derive(ApiResponse)]
pub enum SsoUrlReply {
    /// The URL and state.
    #[oai(status = 200)]
    Ok(Json<SsoUrlResponse>),
    /// `VALIDATION_ERROR` (redirect), `INVALID_INPUT` (PKCE), `SSO_NOT_CONFIGURED`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// App inactive.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// App not found.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// The provider's discovery document could not be read.
    #[oai(status = 502)]
    BadGateway(Json<ErrorEnvelope>),
}

/// Replies of the callback.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request
pub enum SsoCallbackReply {
    /// `LoginResponse`, or `{auth_code, expires_in, auth_code_expires_in}` with PKCE.
    #[oai(status = 200)]
    Ok(Json<SsoCallbackResult>),
    /// `INVALID_INPUT` (code/state missing), `SSO_TOKEN_INVALID` (state), `SSO_NOT_CONFIGURED`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `{"requires_2fa":true}` (non-PKCE, TOTP missing or wrong), or `TOKEN_INVALID` when
    /// the provider's ID token fails a check.
    #[oai(status = 401)]
    Unauthorized(Json<TwoFactorChallenge>),
    /// Suspended or locked account, app not granted.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// Soft-deleted user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// The email belongs to an account this identity may not reach.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
    /// `SSO_PROVIDER_ERROR`: the provider failed, timed out or answered nonsense.
    #[oai(status = 502)]
    BadGateway(Json<ErrorEnvelope>),
}

/// Replies of `POST /auth/sso/exchange`.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request
pub enum SsoExchangeReply {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<LoginResponseBody>),
    /// `TOKEN_INVALID` (auth code), `INVALID_INPUT` (verifier format or mismatch).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `{"requires_2fa":true}`: retry with `two_factor_code` within the code's minute.
    #[oai(status = 401)]
    TwoFactorRequired(Json<TwoFactorChallenge>),
    /// `USER_SUSPENDED`, app not granted.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// `USER_NOT_FOUND`.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// SSO routes.
#[derive(Debug, Clone, Default)]
pub struct SsoApi;

fn challenge() -> TwoFactorChallenge {
    TwoFactorChallenge { requires_2fa: true }
}

async fn run_callback(
    platform: &Platform,
    req: &Request,
    fields: SsoCallbackRequest,
) -> poem::Result<SsoCallbackReply> {
    let provider = present(fields.provider.as_deref())
        .map(str::to_owned)
        .or_else(|| fields.user.as_ref().map(|_| "apple".to_owned()));
    let input = CallbackInput {
        provider,
        code: fields.code,
        state: fields.state,
        app_code: fields.app_code.or_else(|| header_value(req, "X-App-Code")),
        invite_code: fields.invite_code,
        iss: fields.iss,
        user: fields.user,
        two_factor_code: fields.two_factor_code,
    };
    let ttl = AUTH_CODE_TTL.as_secs();
    Ok(
        match sso::callback(platform, input, &Client::of(req)).await? {
            CallbackOutcome::Login(s) => {
                SsoCallbackReply::Ok(Json(SsoCallbackResult::Login((*s).into())))
            }
            CallbackOutcome::AuthCode(auth_code) => {
                SsoCallbackReply::Ok(Json(SsoCallbackResult::AuthCode(SsoAuthCodeResponse {
                    auth_code,
                    expires_in: ttl,
                    auth_code_expires_in: ttl,
                })))
            }
            CallbackOutcome::TwoFactorRequired => SsoCallbackReply::Unauthorized(Json(challenge())),
        },
    )
}

#[OpenApi(tag = "ApiTags::Auth")]
impl SsoApi {
    /// The enabled SSO providers.
    #[oai(
        path = "/auth/sso/providers",
        method = "get",
        operation_id = "ssoProviders"
    )]
    async fn providers(&self, platform: Data<&Platform>) -> ProvidersResponse {
        let list = providers::enabled(&platform.settings)
            .into_iter()
            .map(|(code, label)| SsoProviderInfo {
                name: label,
                kind: code,
                enabled: true,
            })
            .collect();
        ProvidersResponse::Ok(Json(list))
    }

    /// Start an SSO flow: the provider's authorization URL and our state.
    #[oai(path = "/auth/sso/url", method = "post", operation_id = "ssoUrl")]
    async fn url(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<SsoUrlRequest>,
    ) -> poem::Result<SsoUrlReply> {
        let body = body.0;
        let input = StartInput {
            organization_id: optional_uuid("organization_id", body.organization_id.as_deref())?,
            provider: body.provider,
            redirect_url: body.redirect_url,
            invite_code: body.invite_code,
            app_code: header_value(req, "X-App-Code").or(body.app_code),
            code_challenge: body.code_challenge,
            code_challenge_method: body.code_challenge_method,
        };
        let (auth_url, state) = sso::start(&platform, input).await?;
        Ok(SsoUrlReply::Ok(Json(SsoUrlResponse { auth_url, state })))
    }

    /// Provider callback by query string.
    #[oai(
        path = "/auth/sso/callback",
        method = "get",
        operation_id = "ssoCallbackGet"
    )]
    async fn callback_get(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        code: Query<Option<String>>,
        state: Query<Option<String>>,
        provider: Query<Option<String>>,
        iss: Query<Option<String>>,
    ) -> poem::Result<SsoCallbackReply> {
        let fields = SsoCallbackRequest {
            provider: provider.0,
            code: code.0,
            state: state.0,
            organization_id: None,
            invite_code: None,
            app_code: None,
            user: None,
            two_factor_code: None,
            iss: iss.0,
        };
        run_callback(&platform, req, fields).await
    }

    /// Provider callback by JSON, or Apple's form_post.
    #[oai(
        path = "/auth/sso/callback",
        method = "post",
        operation_id = "ssoCallback"
    )]
    async fn callback_post(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: SsoCallbackBody,
    ) -> poem::Result<SsoCallbackReply> {
        let fields = match body {
            SsoCallbackBody::Json(Json(f)) | SsoCallbackBody::Form(Form(f)) => f,
        };
        run_callback(&platform, req, fields).await
    }

    /// Redeem a PKCE auth code for tokens.
    #[oai(
        path = "/auth/sso/exchange",
        method = "post",
        operation_id = "ssoExchange"
    )]
    async fn exchange(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<SsoExchangeRequest>,
    ) -> poem::Result<SsoExchangeReply> {
        let body = body.0;
        let input = ExchangeInput {
            auth_code: body.auth_code,
            code_verifier: body.code_verifier,
            two_factor_code: body.two_factor_code,
        };
        Ok(
            match sso::exchange(&platform, input, &Client::of(req)).await? {
                ExchangeOutcome::Login(s) => SsoExchangeReply::Ok(Json((*s).into())),
                ExchangeOutcome::TwoFactorRequired => {
                    SsoExchangeReply::TwoFactorRequired(Json(challenge()))
                }
            },
        )
    }
}
