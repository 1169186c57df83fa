//! `/auth/magic-link/*`: sign-in links by mail (contract §2.5, §5.6). There is no GET
//! form: only the POST consumes a link, so mail scanners cannot burn it (ML-05).

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::{TokenResponse, UserRecord};
use super::login::TwoFactorChallenge;
use crate::flows::common::Client;
use crate::flows::magic_link::{self, VerifyOutcome};
use crate::state::Shared;

/// `{"email", "app_code"}`.
#[derive(Debug, Object)]
pub struct MagicLinkRequest {
    /// Email address.
    pub email: String,
    /// App the link signs into (its `frontend_url` is the link base).
    pub app_code: Option<String>,
}

/// `{"token"}` from the link, plus a TOTP code for accounts with 2FA.
#[derive(Debug, Object)]
pub struct MagicLinkVerifyRequest {
    /// The token from the link.
    pub token: String,
    /// 6-digit TOTP code, required when the account has 2FA (else 401 `requires_2fa`).
    pub two_factor_code: Option<String>,
}

/// The signed-in user (raw record) and tokens.
#[derive(Debug, Object)]
pub struct MagicLinkVerifyBody {
    /// The user record.
    pub user: UserRecord,
    /// The token pair (base roles, the link's app scope).
    pub tokens: TokenResponse,
}

/// Replies of `POST /auth/magic-link/request`.
#[derive(ApiResponse)]
pub enum MagicLinkRequestResponse {
    /// Accepted (also for unknown addresses).
    #[oai(status = 204)]
    NoContent,
    /// `INVALID_INPUT`: malformed email.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Too many links requested for this address within the hour.
    #[oai(status = 429)]
    RateLimited(Json<ErrorEnvelope>),
}

/// Replies of `POST /auth/magic-link/verify`.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored
pub enum MagicLinkVerifyResponse {
    /// Signed in; the link is spent.
    #[oai(status = 200)]
    Ok(Json<MagicLinkVerifyBody>),
    /// `TOKEN_INVALID` (unknown, used or expired link), or the bare `{"requires_2fa":true}`
    /// when the account has 2FA and the code is missing or wrong (the link stays usable).
    #[oai(status = 401)]
    Unauthorized(Json<TwoFactorChallenge>),
    /// `USER_SUSPENDED` (suspended or locked); `FORBIDDEN` (not authorized for the app).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Magic-link sign-in.
#[derive(Debug, Clone, Default)]
pub struct MagicLinkApi {
    pub(crate) shared: Shared,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl MagicLinkApi {
    /// Mail a one-time sign-in link (always 204 for a well-formed address).
    #[oai(
        path = "/auth/magic-link/request",
        method = "post",
        operation_id = "requestMagicLink"
    )]
    async fn request(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<MagicLinkRequest>,
    ) -> poem::Result<MagicLinkRequestResponse> {
        let services = self.shared.services(&platform);
        magic_link::request(
            &platform,
            &services,
            &body.0.email,
            body.0.app_code.as_deref(),
            &Client::of(req),
        )
        .await?;
        Ok(MagicLinkRequestResponse::NoContent)
    }

    /// Sign in with the token from a magic link (single use).
    #[oai(
        path = "/auth/magic-link/verify",
        method = "post",
        operation_id = "verifyMagicLink"
    )]
    async fn verify(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<MagicLinkVerifyRequest>,
    ) -> poem::Result<MagicLinkVerifyResponse> {
        let outcome = magic_link::verify(
            &platform,
            &body.0.token,
            body.0.two_factor_code.as_deref(),
            &Client::of(req),
        )
        .await?;
        Ok(match outcome {
            VerifyOutcome::Success(s) => {
                let (user, tokens) = *s;
                MagicLinkVerifyResponse::Ok(Json(MagicLinkVerifyBody {
                    user: UserRecord::from(&user),
                    tokens: tokens.into(),
                }))
            }
            VerifyOutcome::TwoFactorRequired => {
                MagicLinkVerifyResponse::Unauthorized(Json(TwoFactorChallenge {
                    requires_2fa: true,
                }))
            }
        })
    }
}
