//! `DELETE /me/account` (§2.8): the caller deletes their own account.

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::flows::account::delete_self;
use crate::flows::common::{Client, caller_id, refuse_impersonation};
use crate::state::Shared;

/// `{"password", "confirmation": "DELETE"}`.
#[derive(Debug, Object)]
pub struct DeleteAccountRequest {
    /// The account password.
    pub password: String,
    /// Must be exactly `DELETE`.
    pub confirmation: String,
}

/// Replies of `DELETE /me/account`.
#[derive(ApiResponse)]
pub enum DeleteAccountResponse {
    /// Deleted; every token of the account is dead.
    #[oai(status = 204)]
    NoContent,
    /// `INVALID_INPUT`: confirmation is not `DELETE`, malformed body.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// `INVALID_CREDENTIALS`, or a missing/invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Under impersonation; account locked (`USER_SUSPENDED`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// `CONFLICT`: the caller owns an organisation.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Self-service account deletion.
#[derive(Debug, Clone, Default)]
pub struct AccountApi {
    pub(crate) shared: Shared,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl AccountApi {
    /// Delete the caller's account for good (password and `"confirmation": "DELETE"`).
    #[oai(
        path = "/me/account",
        method = "delete",
        operation_id = "deleteMyAccount"
    )]
    async fn delete(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<DeleteAccountRequest>,
    ) -> poem::Result<DeleteAccountResponse> {
        refuse_impersonation(&auth.0)?;
        let id = caller_id(&auth.0)?;
        let services = self.shared.services(&platform);
        delete_self(
            &platform,
            &services,
            id,
            &body.0.password,
            &body.0.confirmation,
            &Client::of(req),
        )
        .await?;
        Ok(DeleteAccountResponse::NoContent)
    }
}
