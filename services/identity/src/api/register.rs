//! `POST /auth/register`, `POST /auth/check-email`, `POST /auth/admin/set-password` (§2.1).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::AccessClaims;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use super::ApiTags;
use super::dto::{OrganizationResponse, SuccessBody, TokenResponse, UserResponse};
use crate::domain::{Email, pools};
use crate::error::internal;
use crate::flows::common::{Client, Provisioning, header_value, present, resolve_app};
use crate::flows::password::admin_set;
use crate::flows::register::{Mode, RegisterInput, RegisterOutcome, register};
use crate::repo::users;
use crate::state::Shared;

/// Registration request. Unknown extra fields are accepted and forwarded (with the rest of the
/// body, minus `password`) to the app's `user.registered` webhooks.
#[derive(Debug, Object)]
pub struct RegisterRequest {
    /// Email address.
    pub email: String,
    /// Password (policy of `AUTH_PASSWORD_*`, at most 72 bytes).
    pub password: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Creates an organisation; the new user becomes its owner and `org_admin`.
    pub organization_name: Option<String>,
    /// Invitation code: joins the inviting organisation.
    pub invite_code: Option<String>,
    /// Invitation token (from the invitation link): joins the inviting organisation.
    pub invite_token: Option<String>,
    /// App whose registration policy applies (falls back to `AUTH_DEFAULT_APP_CODE`).
    pub app_code: Option<String>,
    /// `register` (default), `register_or_login` or `register_or_return`.
    pub mode: Option<String>,
    /// Role in the app's default organisation (overrides the app's default role).
    pub role_code: Option<String>,
    /// Apps granted with the app (overrides the app's linked apps).
    pub linked_app_codes: Option<Vec<String>>,
    /// Any other fields (kept for the webhooks).
    #[oai(flatten)]
    pub extra: HashMap<String, serde_json::Value>,
}

/// Largest `registration` object forwarded to webhooks; a body whose unknown fields make it
/// larger is forwarded without them.
const WEBHOOK_BODY_MAX_BYTES: usize = 32 * 1024;

/// The body minus `password` (contract §5.9), unknown fields kept when small enough.
fn webhook_body(b: &RegisterRequest) -> Map<String, Value> {
    let mut known = Map::new();
    let mut put = |key: &str, value: Value| {
        known.insert(key.to_owned(), value);
    };
    put("email", json!(b.email));
    put("first_name", json!(b.first_name));
    put("last_name", json!(b.last_name));
    let optional = [
        ("phone", &b.phone),
        ("display_name", &b.display_name),
        ("organization_name", &b.organization_name),
        ("invite_code", &b.invite_code),
        ("invite_token", &b.invite_token),
        ("app_code", &b.app_code),
        ("mode", &b.mode),
        ("role_code", &b.role_code),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            put(key, json!(v));
        }
    }
    if let Some(codes) = &b.linked_app_codes {
        put("linked_app_codes", json!(codes));
    }
    let mut all: Map<String, Value> = b
        .extra
        .iter()
        .filter(|(k, _)| k.as_str() != "password")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    all.extend(known.clone());
    let size = serde_json::to_vec(&all).map_or(usize::MAX, |v| v.len());
    if size > WEBHOOK_BODY_MAX_BYTES {
        known
    } else {
        all
    }
}

/// Registration reply.
#[derive(Debug, Object)]
pub struct RegisterResponseBody {
    /// The user.
    pub user: UserResponse,
    /// The organisation created or joined.
    #[oai(skip_serializing_if_is_none)]
    pub organization: Option<OrganizationResponse>,
    /// Whether a verification mail was sent.
    pub verification_email_sent: bool,
    /// `register_or_login` on an existing account: logged in.
    #[oai(skip_serializing_if_is_none)]
    pub logged_in: Option<bool>,
    /// Tokens of that login.
    #[oai(skip_serializing_if_is_none)]
    pub tokens: Option<TokenResponse>,
}

/// Replies of `POST /auth/register`.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored
pub enum RegisterResponse {
    /// Registered.
    #[oai(status = 201)]
    Created(Json<RegisterResponseBody>),
    /// Existing account: logged in (`register_or_login`) or returned (`register_or_return`).
    #[oai(status = 200)]
    Ok(Json<RegisterResponseBody>),
    /// Bad input, password policy, invitation expired or used.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `register_or_return` without a system_admin caller; inactive app.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// App or invitation not found.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// The email (or organisation name) is taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// `{"email", "app_code"}`.
#[derive(Debug, Object)]
pub struct CheckEmailRequest {
    /// Email address.
    pub email: String,
    /// Pool scope (the token's `app_code` and `X-App-Code` win).
    pub app_code: Option<String>,
}

/// `{"exists": bool}`.
#[derive(Debug, Object)]
pub struct CheckEmailBody {
    /// Whether a live account uses the address in the app's pools.
    pub exists: bool,
}

/// Replies of `POST /auth/check-email`.
#[derive(ApiResponse)]
pub enum CheckEmailResponse {
    /// The answer.
    #[oai(status = 200)]
    Ok(Json<CheckEmailBody>),
    /// Not a system_admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// `{"user_id", "new_password"}`.
#[derive(Debug, Object)]
pub struct SetPasswordRequest {
    /// The user.
    pub user_id: String,
    /// The new password.
    pub new_password: String,
}

/// Replies of `POST /auth/admin/set-password`.
#[derive(ApiResponse)]
pub enum SetPasswordResponse {
    /// Done.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Password too short or too long, bad user id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a system_admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Registration and account existence.
#[derive(Debug, Clone, Default)]
pub struct RegisterApi {
    pub(crate) shared: Shared,
}

/// 403 unless the caller holds `system_admin`.
pub fn require_system_admin(claims: &AccessClaims) -> Result<(), ApiError> {
    if claims.has_role("system_admin") {
        Ok(())
    } else {
        Err(ApiError::forbidden("System admin access required"))
    }
}

/// Whether the request carries a valid system_admin bearer (optional authentication).
async fn caller_is_system_admin(platform: &Platform, req: &Request) -> bool {
    let header = req.headers().get(poem::http::header::AUTHORIZATION);
    let Some(value) = header else {
        return false;
    };
    let Ok(token) = jwt_verify::bearer_token(Some(value.as_bytes())) else {
        return false;
    };
    platform
        .verifier
        .verify_access(token)
        .await
        .is_ok_and(|c| c.has_role("system_admin"))
}

#[OpenApi(tag = "ApiTags::Auth")]
impl RegisterApi {
    /// Register a new account (three modes, app policy, organisation, invitation).
    #[oai(path = "/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<RegisterRequest>,
    ) -> poem::Result<RegisterResponse> {
        let services = self.shared.services(&platform);
        let b = body.0;
        let mode = Mode::parse(b.mode.as_deref())?;
        let webhook_body = webhook_body(&b);
        let input = RegisterInput {
            email: b.email,
            password: b.password,
            first_name: b.first_name,
            last_name: b.last_name,
            phone: b.phone,
            display_name: b.display_name,
            organization_name: b.organization_name,
            invite_code: b.invite_code,
            invite_token: b.invite_token,
            app_code: b.app_code,
            provisioning: Provisioning {
                role_code: b.role_code,
                linked_app_codes: b.linked_app_codes,
            },
            caller_is_system_admin: mode == Mode::RegisterOrReturn
                && caller_is_system_admin(&platform, req).await,
            webhook_body,
            server: header_value(req, "host"),
        };
        let client = Client::of(req);
        Ok(
            match register(&platform, &services, mode, input, &client).await? {
                RegisterOutcome::Created {
                    user,
                    organization,
                    verification_email_sent,
                } => RegisterResponse::Created(Json(RegisterResponseBody {
                    user: UserResponse::from(&*user),
                    organization: organization.as_ref().map(OrganizationResponse::from),
                    verification_email_sent,
                    logged_in: None,
                    tokens: None,
                })),
                RegisterOutcome::LoggedIn(s) => RegisterResponse::Ok(Json(RegisterResponseBody {
                    user: UserResponse::from(&s.user),
                    organization: s.organization.as_ref().map(OrganizationResponse::from),
                    verification_email_sent: false,
                    logged_in: Some(true),
                    tokens: Some(s.tokens.into()),
                })),
                RegisterOutcome::Existing(user) => {
                    RegisterResponse::Ok(Json(RegisterResponseBody {
                        user: UserResponse::from(&*user),
                        organization: None,
                        verification_email_sent: false,
                        logged_in: Some(false),
                        tokens: None,
                    }))
                }
            },
        )
    }

    /// Whether an email is taken in an app's pools (system_admin only).
    #[oai(
        path = "/auth/check-email",
        method = "post",
        operation_id = "checkEmail"
    )]
    async fn check_email(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<CheckEmailRequest>,
    ) -> poem::Result<CheckEmailResponse> {
        require_system_admin(&auth.0)?;
        let app_code = present(Some(auth.0.app_code.as_str()))
            .map(str::to_owned)
            .or_else(|| header_value(req, "x-app-code"))
            .or_else(|| present(body.0.app_code.as_deref()).map(str::to_owned));
        let app = resolve_app(&platform, app_code.as_deref(), true).await?;
        let Some(email) = Email::parse(&body.0.email) else {
            return Ok(CheckEmailResponse::Ok(Json(CheckEmailBody {
                exists: false,
            })));
        };
        let read = pools::read_pools(app.as_ref());
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let found = users::find_live_by_email(&mut conn, email.as_str(), Some(&read))
            .await
            .map_err(internal)?;
        Ok(CheckEmailResponse::Ok(Json(CheckEmailBody {
            exists: found.is_some(),
        })))
    }

    /// Set a user's password (system_admin only).
    #[oai(
        path = "/auth/admin/set-password",
        method = "post",
        operation_id = "adminSetPassword"
    )]
    async fn set_password(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<SetPasswordRequest>,
    ) -> poem::Result<SetPasswordResponse> {
        require_system_admin(&auth.0)?;
        let admin = uuid::Uuid::parse_str(&auth.0.uid).map_err(internal)?;
        let services = self.shared.services(&platform);
        admin_set(
            &platform,
            &services,
            admin,
            &body.0.user_id,
            &body.0.new_password,
            &Client::of(req),
        )
        .await?;
        Ok(SetPasswordResponse::Ok(Json(SuccessBody::ok())))
    }
}
