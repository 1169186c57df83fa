//! User administration reads and the lockout reset (§2.10): `GET /admin/users`,
//! `GET /admin/users/{userId}`, `POST /admin/users/lookup`,
//! `POST /admin/users/{userId}/reset-lockout`. Platform admins (§9.8).

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::{RoleRef, SuccessBody, UserRecord, UserResponse};
use crate::flows::admin::{self, ListQuery};
use crate::flows::common::{Client, caller_id};
use crate::flows::gate::{parse_id, require_platform_admin};

/// A page of users.
#[derive(Debug, Object)]
pub struct UserListBody {
    /// Users with their base roles.
    pub users: Vec<UserResponse>,
    /// Users matching the filters (all pages).
    pub total: i64,
}

/// `{"user": <raw user record>}`.
#[derive(Debug, Object)]
pub struct UserRecordBody {
    /// The user record.
    pub user: UserRecord,
}

/// Users to look up by email and id (at most 200 keys together).
#[derive(Debug, Object)]
pub struct LookupRequest {
    /// Email addresses.
    pub emails: Option<Vec<String>>,
    /// User ids.
    pub ids: Option<Vec<String>>,
}

/// The live users found (order not guaranteed).
#[derive(Debug, Object)]
pub struct LookupBody {
    /// Users found.
    pub users: Vec<UserResponse>,
    /// How many.
    pub count: i64,
}

/// Replies of the admin reads.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored
pub enum AdminReadResponse<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// The data.
    #[oai(status = 200)]
    Ok(Json<T>),
    /// Malformed id or query parameter.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// User administration (reads, lockout reset).
#[derive(Debug, Clone, Default)]
pub struct AdminUsersApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminUsersApi {
    /// List users: text search, filters, pagination and an allow-listed sort.
    #[oai(path = "/admin/users", method = "get", operation_id = "adminListUsers")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Text search over email, first, last and display name.
        search: Query<Option<String>>,
        /// Page (1-based, default 1).
        page: Query<Option<i64>>,
        /// Page size (default 25, at most 100).
        page_size: Query<Option<i64>>,
        /// Overrides `page_size`.
        limit: Query<Option<i64>>,
        /// Overrides `page`.
        offset: Query<Option<i64>>,
        /// `pending`, `active`, `suspended` or `deleted` (default: every live user).
        status: Query<Option<String>>,
        /// Members of this organisation.
        organization_id: Query<Option<String>>,
        /// Holders of an active grant for this app.
        app_id: Query<Option<String>>,
        /// `created_at` (default), `updated_at`, `email`, `first_name`, `last_name`,
        /// `last_login_at` or `status`.
        sort_by: Query<Option<String>>,
        /// `ASC` or `DESC` (default).
        sort_order: Query<Option<String>>,
    ) -> poem::Result<AdminReadResponse<UserListBody>> {
        require_platform_admin(&auth.0)?;
        let q = ListQuery {
            search: search.0,
            page: page.0,
            page_size: page_size.0,
            limit: limit.0,
            offset: offset.0,
            status: status.0,
            organization_id: organization_id.0,
            app_id: app_id.0,
            sort_by: sort_by.0,
            sort_order: sort_order.0,
        };
        let (rows, total) = admin::list(&platform, &q).await?;
        let users = rows
            .into_iter()
            .map(|(u, roles)| {
                let mut r = UserResponse::from(&u);
                r.roles = Some(
                    roles
                        .into_iter()
                        .map(|(code, name)| RoleRef { code, name })
                        .collect(),
                );
                r
            })
            .collect();
        Ok(AdminReadResponse::Ok(Json(UserListBody { users, total })))
    }

    /// One user's raw record (soft-deleted users included).
    #[oai(
        path = "/admin/users/:user_id",
        method = "get",
        operation_id = "adminGetUser"
    )]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        user_id: Path<String>,
    ) -> poem::Result<AdminReadResponse<UserRecordBody>> {
        require_platform_admin(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        let user = admin::get(&platform, id).await?;
        Ok(AdminReadResponse::Ok(Json(UserRecordBody {
            user: UserRecord::from(&user),
        })))
    }

    /// Live users by email and id (at most 200 keys; soft-deleted users are left out).
    #[oai(
        path = "/admin/users/lookup",
        method = "post",
        operation_id = "adminLookupUsers"
    )]
    async fn lookup(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        body: Json<LookupRequest>,
    ) -> poem::Result<AdminReadResponse<LookupBody>> {
        require_platform_admin(&auth.0)?;
        let b = body.0;
        let rows = admin::lookup(
            &platform,
            b.ids.as_deref().unwrap_or_default(),
            b.emails.as_deref().unwrap_or_default(),
        )
        .await?;
        let users: Vec<UserResponse> = rows.iter().map(UserResponse::from).collect();
        Ok(AdminReadResponse::Ok(Json(LookupBody {
            count: i64::try_from(users.len()).unwrap_or(i64::MAX),
            users,
        })))
    }

    /// Clear a user's failed-login counter and lock.
    #[oai(
        path = "/admin/users/:user_id/reset-lockout",
        method = "post",
        operation_id = "adminResetLockout"
    )]
    async fn reset_lockout(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        user_id: Path<String>,
    ) -> poem::Result<AdminReadResponse<SuccessBody>> {
        require_platform_admin(&auth.0)?;
        let admin_id = caller_id(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        admin::reset_lockout(&platform, admin_id, id, &Client::of(req)).await?;
        Ok(AdminReadResponse::Ok(Json(SuccessBody::ok())))
    }
}
