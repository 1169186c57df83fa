//! Platform administration of a user's sessions (contract §2.2): list, terminate one,
//! revoke all.

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
use crate::flows::revoke_all::revoke_all;
use crate::flows::sessions;

/// Replies of `GET /admin/users/{userId}/sessions`.
#[derive(ApiResponse)]
pub enum AdminListSessionsResponse {
    /// The user's live sessions, newest activity first (`is_current` only when admins list
    /// their own).
    #[oai(status = 200)]
    Ok(Json<Vec<SessionRecord>>),
    /// Not a UUID (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a platform admin (`INSUFFICIENT_PERMISSIONS`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /admin/users/{userId}/sessions/{sessionId}`.
#[derive(ApiResponse)]
pub enum AdminTerminateSessionResponse {
    /// Terminated; its refresh-token family is revoked.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Not a UUID (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a platform admin, or the session is not that user's.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such session (`NOT_FOUND`).
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `POST /admin/users/{userId}/revoke-sessions`.
#[derive(ApiResponse)]
pub enum RevokeSessionsResponse {
    /// Same effect as the user's logout-all.
    #[oai(status = 200)]
    Ok(Json<SuccessBody>),
    /// Not a UUID (`INVALID_INPUT`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Neither `system_admin` nor `super_admin` (`INSUFFICIENT_PERMISSIONS`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user (`USER_NOT_FOUND`).
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Admin session management.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdminSessionsApi;

#[OpenApi(tag = "ApiTags::AdminSessions")]
impl AdminSessionsApi {
    /// A user's live sessions.
    #[oai(
        path = "/admin/users/:user_id/sessions",
        method = "get",
        operation_id = "adminListUserSessions"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// The user id.
        user_id: Path<String>,
    ) -> poem::Result<AdminListSessionsResponse> {
        gate::platform_admin(&auth.0)?;
        let user = gate::uuid("user_id", &user_id.0)?;
        let own = gate::caller(&auth.0)? == user;
        let current = own.then_some(auth.0.session_id.as_str());
        let rows = sessions::list(&platform, user).await?;
        Ok(AdminListSessionsResponse::Ok(Json(
            rows.into_iter()
                .map(|r| SessionRecord::from_row(r, current))
                .collect(),
        )))
    }

    /// Ends one session of a user and revokes the refresh tokens behind it.
    #[oai(
        path = "/admin/users/:user_id/sessions/:session_id",
        method = "delete",
        operation_id = "adminTerminateUserSession"
    )]
    async fn terminate(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        /// The user id.
        user_id: Path<String>,
        /// The session id.
        session_id: Path<String>,
    ) -> poem::Result<AdminTerminateSessionResponse> {
        gate::platform_admin(&auth.0)?;
        let admin = gate::caller(&auth.0)?;
        let user = gate::uuid("user_id", &user_id.0)?;
        let session = gate::uuid("session_id", &session_id.0)?;
        sessions::terminate(&platform, user, session, admin, &Client::of(req)).await?;
        Ok(AdminTerminateSessionResponse::Ok(Json(SuccessBody::ok())))
    }

    /// Ends every session of a user (its logout-all); platform admins only (§9.8). No body.
    #[oai(
        path = "/admin/users/:user_id/revoke-sessions",
        method = "post",
        operation_id = "adminRevokeUserSessions"
    )]
    async fn revoke(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        /// The user id.
        user_id: Path<String>,
    ) -> poem::Result<RevokeSessionsResponse> {
        gate::platform_admin(&auth.0)?;
        let admin = gate::caller(&auth.0)?;
        let user = gate::uuid("user_id", &user_id.0)?;
        revoke_all(&platform, user, admin, &Client::of(req)).await?;
        Ok(RevokeSessionsResponse::Ok(Json(SuccessBody::ok())))
    }
}
