//! `/auth/2fa/*`: TOTP setup, enable and disable (contract §2.4, §5.8).

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::flows::common::{Client, caller_id, refuse_impersonation};
use crate::flows::totp;
use crate::state::Shared;

/// A new TOTP secret, shown once.
#[derive(Debug, Object)]
pub struct SetupBody {
    /// The secret, base32.
    pub secret: String,
    /// `otpauth://totp/Vendidit:<email>?secret=...&issuer=Vendidit` for authenticator apps.
    pub provisioning_uri: String,
}

/// `{"code"}`.
#[derive(Debug, Object)]
pub struct EnableRequest {
    /// The current 6-digit code from the authenticator.
    pub code: String,
}

/// `{"password", "code"}`.
#[derive(Debug, Object)]
pub struct DisableRequest {
    /// The account password.
    pub password: String,
    /// A current 6-digit code.
    pub code: String,
}

/// Replies of `POST /auth/2fa/setup`.
#[derive(ApiResponse)]
pub enum SetupResponse {
    /// The secret and provisioning URI (2FA stays unconfirmed until `/enable`).
    #[oai(status = 200)]
    Ok(Json<SetupBody>),
    /// `VALIDATION_ERROR`: 2FA is already active.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Under impersonation.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Replies of `POST /auth/2fa/enable` and `/disable`.
#[derive(ApiResponse)]
pub enum TwoFactorChangeResponse {
    /// Done.
    #[oai(status = 204)]
    NoContent,
    /// `VALIDATION_ERROR` (no pending setup, not active), `INVALID_INPUT` (wrong code).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token; `INVALID_CREDENTIALS` (wrong password, disable).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Under impersonation; account locked (`USER_SUSPENDED`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// TOTP second factor.
#[derive(Debug, Clone, Default)]
pub struct TwoFactorApi {
    pub(crate) shared: Shared,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl TwoFactorApi {
    /// Start TOTP setup: a new secret and provisioning URI (confirm with `/auth/2fa/enable`).
    #[oai(
        path = "/auth/2fa/setup",
        method = "post",
        operation_id = "setupTwoFactor"
    )]
    async fn setup(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
    ) -> poem::Result<SetupResponse> {
        refuse_impersonation(&auth.0)?;
        let user = caller_id(&auth.0)?;
        let services = self.shared.services(&platform);
        let s = totp::setup(&platform, &services.totp, user, &Client::of(req)).await?;
        Ok(SetupResponse::Ok(Json(SetupBody {
            secret: s.secret,
            provisioning_uri: s.provisioning_uri,
        })))
    }

    /// Confirm TOTP with the first code from the authenticator.
    #[oai(
        path = "/auth/2fa/enable",
        method = "post",
        operation_id = "enableTwoFactor"
    )]
    async fn enable(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<EnableRequest>,
    ) -> poem::Result<TwoFactorChangeResponse> {
        refuse_impersonation(&auth.0)?;
        let user = caller_id(&auth.0)?;
        let services = self.shared.services(&platform);
        totp::enable(
            &platform,
            &services.totp,
            user,
            &body.0.code,
            &Client::of(req),
        )
        .await?;
        Ok(TwoFactorChangeResponse::NoContent)
    }

    /// Turn TOTP off (password and a current code); every access token of the user dies.
    #[oai(
        path = "/auth/2fa/disable",
        method = "post",
        operation_id = "disableTwoFactor"
    )]
    async fn disable(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<DisableRequest>,
    ) -> poem::Result<TwoFactorChangeResponse> {
        refuse_impersonation(&auth.0)?;
        let user = caller_id(&auth.0)?;
        let services = self.shared.services(&platform);
        totp::disable(
            &platform,
            &services,
            user,
            &body.0.password,
            &body.0.code,
            &Client::of(req),
        )
        .await?;
        Ok(TwoFactorChangeResponse::NoContent)
    }
}
