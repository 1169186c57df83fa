//! `POST /auth/login` (contract §2.1, §5.1).

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::{LoginResponseBody, optional_uuid};
use crate::flows::common::{Client, Provisioning};
use crate::flows::login::{LoginInput, LoginOutcome, login};
use crate::state::Shared;

/// Login request.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// App to log into (required unless `AUTH_DEFAULT_APP_CODE` or base-user login is set).
    pub app_code: Option<String>,
    /// Scope the tokens to this organisation.
    pub organization_id: Option<String>,
    /// Longer refresh-token lifetime.
    pub remember_me: Option<bool>,
    /// 6-digit TOTP code, when 2FA is on.
    pub two_factor_code: Option<String>,
    /// Role in the app's default organisation on first contact (auto-grant).
    pub role_code: Option<String>,
    /// Apps granted together with the app on first contact (auto-grant).
    pub linked_app_codes: Option<Vec<String>>,
}

/// The bare 2FA challenge (no error envelope).
#[derive(Debug, Object)]
pub struct TwoFactorChallenge {
    /// Always true: retry with `two_factor_code`.
    pub requires_2fa: bool,
}

/// Replies of `POST /auth/login`.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored
pub enum LoginResponse {
    /// Logged in.
    #[oai(status = 200)]
    Ok(Json<LoginResponseBody>),
    /// Bad input, or `app_code` required.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `{"requires_2fa":true}` when a TOTP code is missing or wrong; otherwise
    /// `INVALID_CREDENTIALS` in the error envelope.
    #[oai(status = 401)]
    TwoFactorRequired(Json<TwoFactorChallenge>),
    /// Suspended or locked account, inactive app, org gates, app not granted.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// App, user (soft-deleted) or organisation not found.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// Per-account limiter.
    #[oai(status = 429)]
    RateLimited(Json<ErrorEnvelope>),
}

/// Password login.
#[derive(Debug, Clone, Default)]
pub struct LoginApi {
    pub(crate) shared: Shared,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl LoginApi {
    /// Log in with email and password (and a TOTP code when 2FA is on).
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> poem::Result<LoginResponse> {
        let services = self.shared.services(&platform);
        let body = body.0;
        let input = LoginInput {
            organization_id: optional_uuid("organization_id", body.organization_id.as_deref())?,
            email: body.email,
            password: body.password,
            app_code: body.app_code,
            remember_me: body.remember_me.unwrap_or(false),
            two_factor_code: body.two_factor_code,
            provisioning: Provisioning {
                role_code: body.role_code,
                linked_app_codes: body.linked_app_codes,
            },
        };
        match login(&platform, &services, input, &Client::of(req)).await? {
            LoginOutcome::Success(s) => Ok(LoginResponse::Ok(Json((*s).into()))),
            LoginOutcome::TwoFactorRequired => {
                Ok(LoginResponse::TwoFactorRequired(Json(TwoFactorChallenge {
                    requires_2fa: true,
                })))
            }
        }
    }
}
