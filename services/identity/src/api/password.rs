//! Password reset and change, email verification (§2.3).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::SuccessBody;
use crate::error::internal;
use crate::flows::common::{Client, header_value};
use crate::flows::{email, password};
use crate::state::Shared;

/// `{"email", "app_code"}`.
#[derive(Debug, Object)]
pub struct EmailRequest {
    /// Email address.
    pub email: String,
    /// App whose `frontend_url` is the link base (`X-App-Code` wins on reset requests).
    pub app_code: Option<String>,
}

/// `{"token", "new_password"}`.
#[derive(Debug, Object)]
pub struct ResetRequest {
    /// The token from the reset mail.
    pub token: String,
    /// The new password.
    pub new_password: String,
}

/// `{"current_password", "new_password"}`.
#[derive(Debug, Object)]
pub struct ChangeRequest {
    /// The current password.
    pub current_password: String,
    /// The new password.
    pub new_password: String,
}

/// `{"token"}`.
#[derive(Debug, Object)]
pub struct TokenRequest {
    /// The token from the mail.
    pub token: String,
}

/// Replies that are `{"success": true}` or an error.
#[derive(ApiResponse)]
pub enum SuccessResponse {
    /// Done.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Bad input or password policy.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Invalid, expired or used token; wrong current password.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
}

fn done() -> SuccessResponse {
    SuccessResponse::Ok(Json(SuccessBody::ok()))
}

/// Password and email flows.
#[derive(Debug, Clone, Default)]
pub struct PasswordApi {
    pub(crate) shared: Shared,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl PasswordApi {
    /// Ask for a password-reset mail (always succeeds).
    #[oai(
        path = "/auth/password/reset-request",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn reset_request(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<EmailRequest>,
    ) -> poem::Result<SuccessResponse> {
        let services = self.shared.services(&platform);
        let app = password::app_code_header_first(
            header_value(req, "x-app-code"),
            body.0.app_code.as_deref(),
        );
        password::request_reset(&platform, &services, &body.0.email, app.as_deref()).await?;
        Ok(done())
    }

    /// Set a new password with the token from the reset mail (ends every session).
    #[oai(
        path = "/auth/password/reset",
        method = "post",
        operation_id = "resetPassword"
    )]
    async fn reset(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<ResetRequest>,
    ) -> poem::Result<SuccessResponse> {
        let services = self.shared.services(&platform);
        password::reset(
            &platform,
            &services,
            &body.0.token,
            &body.0.new_password,
            &Client::of(req),
        )
        .await?;
        Ok(done())
    }

    /// Change the caller's password (other sessions stay).
    #[oai(
        path = "/auth/password/change",
        method = "post",
        operation_id = "changePassword"
    )]
    async fn change(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<ChangeRequest>,
    ) -> poem::Result<SuccessResponse> {
        let services = self.shared.services(&platform);
        let user = uuid::Uuid::parse_str(&auth.0.uid).map_err(internal)?;
        password::change(
            &platform,
            &services,
            user,
            &body.0.current_password,
            &body.0.new_password,
            &Client::of(req),
        )
        .await?;
        Ok(done())
    }

    /// Verify the email address with the token from the verification mail.
    #[oai(
        path = "/auth/verify-email",
        method = "post",
        operation_id = "verifyEmail"
    )]
    async fn verify(
        &self,
        platform: Data<&Platform>,
        body: Json<TokenRequest>,
    ) -> poem::Result<SuccessResponse> {
        email::verify_email(&platform, &body.0.token).await?;
        Ok(done())
    }

    /// Verify the email address (link form: `?token=`).
    #[oai(
        path = "/auth/verify-email",
        method = "get",
        operation_id = "verifyEmailLink"
    )]
    async fn verify_link(
        &self,
        platform: Data<&Platform>,
        /// The token from the verification mail.
        token: Query<Option<String>>,
    ) -> poem::Result<SuccessResponse> {
        let token = token
            .0
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ApiError::invalid_input("token", "token is required"))?;
        email::verify_email(&platform, &token).await?;
        Ok(done())
    }

    /// Send a new verification mail (always succeeds for a non-empty email).
    #[oai(
        path = "/auth/verify-email/resend",
        method = "post",
        operation_id = "resendVerificationEmail"
    )]
    async fn resend(
        &self,
        platform: Data<&Platform>,
        body: Json<EmailRequest>,
    ) -> poem::Result<SuccessResponse> {
        let services = self.shared.services(&platform);
        email::resend(
            &platform,
            &services,
            &body.0.email,
            body.0.app_code.as_deref(),
        )
        .await?;
        Ok(done())
    }
}
