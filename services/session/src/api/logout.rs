//! `POST /auth/logout` and `POST /auth/logout/all` (contract §2.1, §5.3, decisions §9.11,
//! §9.15, §9.22).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::{AuthError, BearerAuth};
use jwt_verify::{AccessClaims, InvalidReason, Verifier, VerifyError};
use poem::Request;
use poem::http::header;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::SuccessBody;
use super::gate;
use crate::flows::common::Client;
use crate::flows::logout::{LogoutInput, logout};
use crate::flows::revoke_all::revoke_all;

/// `POST /auth/logout` request.
#[derive(Debug, Object)]
pub struct LogoutRequest {
    /// The refresh token of the session to end.
    pub refresh_token: String,
}

/// Replies of `POST /auth/logout`.
#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Logged out; also answered for an unknown, foreign or already revoked refresh token.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Missing `refresh_token` or unparsable JSON (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// A bearer token was sent and is invalid, or belongs to another user than the
    /// refresh token (`UNAUTHORIZED`).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
}

/// Replies of `POST /auth/logout/all`.
#[derive(ApiResponse)]
pub enum LogoutAllResponse {
    /// Every session ended, every refresh token revoked, every access token outdated.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
}

/// Logout.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogoutApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl LogoutApi {
    /// Ends one session: revokes the refresh token and, when a bearer access token is sent
    /// (optional), that access token too. The bearer must belong to the same user.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        platform: Data<&Platform>,
        verifier: Data<&Verifier>,
        req: &Request,
        body: Json<LogoutRequest>,
    ) -> poem::Result<LogoutResponse> {
        let refresh_token = body.0.refresh_token.trim().to_owned();
        if refresh_token.is_empty() {
            return Err(
                ApiError::invalid_input("refresh_token", "refresh_token is required").into(),
            );
        }
        let bearer = optional_bearer(&verifier, req).await?;
        let input = LogoutInput {
            refresh_token,
            bearer,
        };
        logout(&platform, &input).await?;
        Ok(LogoutResponse::Ok(Json(SuccessBody::ok())))
    }

    /// Ends every session of the caller: terminates sessions, revokes every refresh token
    /// and moves the token version forward so every access token is refused. No body.
    #[oai(path = "/auth/logout/all", method = "post", operation_id = "logoutAll")]
    async fn logout_all(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
    ) -> poem::Result<LogoutAllResponse> {
        let user = gate::caller(&auth.0)?;
        revoke_all(&platform, user, user, &Client::of(req)).await?;
        Ok(LogoutAllResponse::Ok(Json(SuccessBody::ok())))
    }
}

/// The verified bearer when an `Authorization` header is present (decision §9.11); a
/// present but bad one is refused like on any protected route.
async fn optional_bearer(verifier: &Verifier, req: &Request) -> poem::Result<Option<AccessClaims>> {
    let mut values = req.headers().get_all(header::AUTHORIZATION).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(refused(VerifyError::Invalid(InvalidReason::Malformed)));
    }
    if first.as_bytes().iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let token = jwt_verify::bearer_token(Some(first.as_bytes())).map_err(refused)?;
    let claims = verifier.verify_access(token).await.map_err(refused)?;
    Ok(Some(claims))
}

fn refused(e: VerifyError) -> poem::Error {
    AuthError::Verify(e).into()
}
