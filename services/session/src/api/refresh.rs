//! `POST /auth/refresh` (contract §2.1, §5.2, decision §9.18).

use auth_api_types::TokenResponse;
use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use auth_tokens::TokenPair;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::gate;
use crate::flows::common::Client;
use crate::flows::refresh::{RefreshInput, refresh};

/// `POST /auth/refresh` request.
#[derive(Debug, Object)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
    /// Switch the new tokens to this organisation; omitted keeps the token's organisation.
    pub organization_id: Option<String>,
}

/// `POST /auth/refresh` reply: the `TokenResponse` fields, and the same values inside
/// `tokens` for clients that read them there (decision §9.18).
#[derive(Debug, Object)]
pub struct RefreshResponseBody {
    /// Access token (JWT).
    pub access_token: String,
    /// Refresh token (JWT); the presented one is now spent.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
    /// Access-token expiry (RFC 3339).
    pub expires_at: String,
    /// The same five values.
    pub tokens: TokenResponse,
}

impl From<TokenPair> for RefreshResponseBody {
    fn from(p: TokenPair) -> Self {
        let tokens = TokenResponse {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: p.token_type,
            expires_in: p.expires_in,
            expires_at: p.expires_at,
        };
        Self {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
            token_type: tokens.token_type.clone(),
            expires_in: tokens.expires_in,
            expires_at: tokens.expires_at.clone(),
            tokens,
        }
    }
}

/// Replies of `POST /auth/refresh`.
#[derive(ApiResponse)]
pub enum RefreshResponse {
    /// A new token pair.
    #[oai(status = 200)]
    Ok(Json<RefreshResponseBody>),
    /// Missing `refresh_token`, bad `organization_id`, unparsable JSON (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `TOKEN_INVALID`, `TOKEN_EXPIRED` or `TOKEN_REVOKED` (reuse, idle timeout, revoked
    /// family).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// `USER_SUSPENDED`, `ORGANIZATION_SUSPENDED`, `NOT_ORGANIZATION_MEMBER`, app refused.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// `USER_NOT_FOUND`, `ORGANIZATION_NOT_FOUND`.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Refresh-token rotation.
#[derive(Debug, Default, Clone, Copy)]
pub struct RefreshApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl RefreshApi {
    /// Rotates a refresh token into a new access/refresh pair. Every refresh token works
    /// once: presenting a spent one again revokes its whole family.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refreshToken")]
    async fn refresh(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        body: Json<RefreshRequest>,
    ) -> poem::Result<RefreshResponse> {
        let body = body.0;
        let token = body.refresh_token.trim();
        if token.is_empty() {
            return Err(auth_edge::ApiError::invalid_input(
                "refresh_token",
                "refresh_token is required",
            )
            .into());
        }
        let organization_id = match body.organization_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(org) => Some(gate::uuid("organization_id", org)?),
        };
        let input = RefreshInput {
            refresh_token: token.to_owned(),
            organization_id,
            client: Client::of(req),
        };
        let pair = refresh(&platform, &input).await?;
        Ok(RefreshResponse::Ok(Json(pair.into())))
    }
}
