//! `GET /auth/sessions` and `DELETE /auth/sessions/{sessionId}` (contract §2.2).

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::dto::{SessionRecord, SuccessBody};
use super::gate;
use crate::flows::common::Client;
use crate::flows::sessions;

/// Replies of `GET /auth/sessions`.
#[derive(ApiResponse)]
pub enum ListSessionsResponse {
    /// The caller's live sessions, newest activity first.
    #[oai(status = 200)]
    Ok(Json<Vec<SessionRecord>>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /auth/sessions/{sessionId}`.
#[derive(ApiResponse)]
pub enum TerminateSessionResponse {
    /// Terminated; its refresh-token family is revoked.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Not a UUID (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Another user's session (`FORBIDDEN`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such session (`NOT_FOUND`).
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// The caller's sessions.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionsApi;

#[OpenApi(tag = "ApiTags::Sessions")]
impl SessionsApi {
    /// The caller's live sessions (one per login; refreshes keep it), with `is_current` on
    /// the one the token belongs to.
    #[oai(path = "/auth/sessions", method = "get", operation_id = "listSessions")]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<ListSessionsResponse> {
        let user = gate::caller(&auth.0)?;
        let rows = sessions::list(&platform, user).await?;
        let current = auth.0.session_id.as_str();
        Ok(ListSessionsResponse::Ok(Json(
            rows.into_iter()
                .map(|r| SessionRecord::from_row(r, Some(current)))
                .collect(),
        )))
    }

    /// Ends one of the caller's sessions and revokes the refresh tokens behind it.
    #[oai(
        path = "/auth/sessions/:session_id",
        method = "delete",
        operation_id = "terminateSession"
    )]
    async fn terminate(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        /// The session id.
        session_id: Path<String>,
    ) -> poem::Result<TerminateSessionResponse> {
        let user = gate::caller(&auth.0)?;
        let session = gate::uuid("session_id", &session_id.0)?;
        sessions::terminate(&platform, user, session, user, &Client::of(req)).await?;
        Ok(TerminateSessionResponse::Ok(Json(SuccessBody::ok())))
    }
}
