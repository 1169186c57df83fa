//! User administration actions (§2.10): `POST /admin/users/bulk-import` (system_admin),
//! `POST /admin/users/{userId}/impersonate`, `DELETE /admin/users/{userId}/hard`
//! (system_admin).

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::LoginResponseBody;
use crate::flows::common::{Client, caller_id};
use crate::flows::gate::{parse_id, require_system_admin};
use crate::flows::import::{self, ImportRequest, ImportUser};
use crate::flows::{admin, impersonate};

/// One user to import.
#[derive(Debug, Object)]
pub struct ImportUserDto {
    /// Email address (required; a row without one is reported as an error).
    pub email: Option<String>,
    /// The existing bcrypt hash (`$2a$`, `$2b$` or `$2y$`; required).
    pub password_hash: Option<String>,
    /// `bcrypt` (default; the only algorithm accepted).
    pub hash_algo: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Pools to tag the user into.
    pub namespace_tags: Option<Vec<String>>,
    /// Free-form metadata (an object).
    pub metadata: Option<serde_json::Value>,
}

/// `POST /admin/users/bulk-import` body (at most 500 users).
#[derive(Debug, Object)]
pub struct ImportRequestDto {
    /// App granted to the imported users; its home pool is the default pool.
    pub app_code: Option<String>,
    /// Home pool of the imported users (wins over the app's).
    pub default_namespace: Option<String>,
    /// Overwrite existing users (hash, given names, merged metadata) instead of skipping.
    pub update: Option<bool>,
    /// The users.
    pub users: Vec<ImportUserDto>,
}

/// What happened to one row.
#[derive(Debug, Object)]
pub struct ImportRowBody {
    /// The row's email.
    pub email: String,
    /// `created`, `updated`, `skipped` or `error`.
    pub status: String,
    /// The user id.
    #[oai(skip_serializing_if_is_none)]
    pub uid: Option<String>,
    /// Why the row was skipped or failed.
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

/// Totals and one outcome per row, in request order.
#[derive(Debug, Object)]
pub struct ImportBody {
    /// Rows created.
    pub created: i64,
    /// Rows updated.
    pub updated: i64,
    /// Rows skipped (user exists, `update` false).
    pub skipped: i64,
    /// Rows refused.
    pub errored: i64,
    /// Every row.
    pub rows: Vec<ImportRowBody>,
}

/// `{"reason"}`.
#[derive(Debug, Object)]
pub struct ReasonRequest {
    /// Why (1-500 characters; recorded in the audit log).
    pub reason: String,
}

/// Replies of `POST /admin/users/bulk-import`.
#[derive(ApiResponse)]
pub enum ImportResponse {
    /// The report.
    #[oai(status = 200)]
    Ok(Json<ImportBody>),
    /// Malformed body, more than 500 users, bad `default_namespace`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a system admin; app inactive.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// Unknown app.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `POST /admin/users/{userId}/impersonate`.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored
pub enum ImpersonateResponse {
    /// A pair for the target carrying `imp_uid`/`imp_email`.
    #[oai(status = 200)]
    Ok(Json<LoginResponseBody>),
    /// No reason, self-impersonation, malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Chained impersonation, not allowed, target outside the org; `USER_SUSPENDED`.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /admin/users/{userId}/hard`.
#[derive(ApiResponse)]
pub enum HardDeleteResponse {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
    /// No reason, self-delete, malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a system admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// `CONFLICT`: the user owns organisations.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// User administration actions.
#[derive(Debug, Clone, Default)]
pub struct AdminActionsApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminActionsApi {
    /// Import up to 500 users with existing bcrypt hashes (system_admin).
    #[oai(
        path = "/admin/users/bulk-import",
        method = "post",
        operation_id = "adminBulkImportUsers"
    )]
    async fn bulk_import(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        body: Json<ImportRequestDto>,
    ) -> poem::Result<ImportResponse> {
        require_system_admin(&auth.0)?;
        let admin_id = caller_id(&auth.0)?;
        let b = body.0;
        let request = ImportRequest {
            app_code: b.app_code,
            default_namespace: b.default_namespace,
            update: b.update.unwrap_or(false),
            users: b
                .users
                .into_iter()
                .map(|u| ImportUser {
                    email: u.email.unwrap_or_default(),
                    password_hash: u.password_hash.unwrap_or_default(),
                    hash_algo: u.hash_algo,
                    first_name: u.first_name,
                    last_name: u.last_name,
                    namespace_tags: u.namespace_tags.unwrap_or_default(),
                    metadata: u.metadata,
                })
                .collect(),
        };
        let report = import::run(&platform, admin_id, request, &Client::of(req)).await?;
        Ok(ImportResponse::Ok(Json(ImportBody {
            created: report.count("created"),
            updated: report.count("updated"),
            skipped: report.count("skipped"),
            errored: report.count("error"),
            rows: report
                .rows
                .into_iter()
                .map(|r| ImportRowBody {
                    email: r.email,
                    status: r.status.to_owned(),
                    uid: r.uid.map(|u| u.to_string()),
                    reason: r.reason,
                })
                .collect(),
        })))
    }

    /// Act as a user (reason required): platform admins for anyone less privileged,
    /// `org_admin` for members of the organisation its token is scoped to.
    #[oai(
        path = "/admin/users/:user_id/impersonate",
        method = "post",
        operation_id = "adminImpersonateUser"
    )]
    async fn impersonate(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        user_id: Path<String>,
        body: Json<ReasonRequest>,
    ) -> poem::Result<ImpersonateResponse> {
        let target = parse_id("user_id", &user_id.0)?;
        let s =
            impersonate::impersonate(&platform, &auth.0, target, &body.0.reason, &Client::of(req))
                .await?;
        Ok(ImpersonateResponse::Ok(Json(s.into())))
    }

    /// Delete a user for good (system_admin, reason required; audit rows stay).
    #[oai(
        path = "/admin/users/:user_id/hard",
        method = "delete",
        operation_id = "adminHardDeleteUser"
    )]
    async fn hard_delete(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        user_id: Path<String>,
        body: Json<ReasonRequest>,
    ) -> poem::Result<HardDeleteResponse> {
        require_system_admin(&auth.0)?;
        let admin_id = caller_id(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        admin::hard_delete(&platform, admin_id, id, &body.0.reason, &Client::of(req)).await?;
        Ok(HardDeleteResponse::NoContent)
    }
}
