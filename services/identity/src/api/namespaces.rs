//! Pools (§2.11, system_admin): `GET /admin/namespaces`, `GET /admin/users/{userId}/namespaces`,
//! `PUT /admin/users/{userId}/namespace`, `POST /admin/users/{userId}/namespaces`,
//! `DELETE /admin/users/{userId}/namespaces/{namespace}`.

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::flows::common::{Client, caller_id};
use crate::flows::gate::{parse_id, require_system_admin};
use crate::flows::namespaces;

/// One pool.
#[derive(Debug, Object)]
pub struct PoolBody {
    /// Pool name.
    pub namespace: String,
    /// Live users whose home pool it is.
    pub home_users: i64,
    /// Live users tagged into it.
    pub tagged_users: i64,
    /// Live users readable in it (home or tag).
    pub total_users: i64,
    /// Apps that register into or read from it.
    pub app_codes: Vec<String>,
}

/// `{"namespaces": [...]}`.
#[derive(Debug, Object)]
pub struct PoolListBody {
    /// Every pool named by a user, a tag or an app, plus `default`.
    pub namespaces: Vec<PoolBody>,
}

/// A user's pools.
#[derive(Debug, Object)]
pub struct UserPoolsBody {
    /// Home pool.
    pub namespace: String,
    /// Tags (pools the user is also readable in).
    pub namespaces: Vec<String>,
}

/// `{"namespace"}`.
#[derive(Debug, Object)]
pub struct NamespaceRequest {
    /// Pool name (1-100 of `[A-Za-z0-9._-]`).
    pub namespace: String,
}

/// Replies of the pool reads.
#[derive(ApiResponse)]
pub enum PoolReadResponse<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// The data.
    #[oai(status = 200)]
    Ok(Json<T>),
    /// Malformed id.
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
}

/// Replies of the pool changes.
#[derive(ApiResponse)]
pub enum PoolChangeResponse {
    /// Done (idempotent).
    #[oai(status = 204)]
    NoContent,
    /// Malformed id or pool name; removing the home pool (`VALIDATION_ERROR`).
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
    /// `USER_ALREADY_EXISTS`: the email is taken in the target pool.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Pools.
#[derive(Debug, Clone, Default)]
pub struct NamespacesApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl NamespacesApi {
    /// Every pool with its user counts and the apps that use it.
    #[oai(
        path = "/admin/namespaces",
        method = "get",
        operation_id = "adminListNamespaces"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<PoolReadResponse<PoolListBody>> {
        require_system_admin(&auth.0)?;
        let rows = namespaces::overview(&platform).await?;
        Ok(PoolReadResponse::Ok(Json(PoolListBody {
            namespaces: rows
                .into_iter()
                .map(|p| PoolBody {
                    namespace: p.namespace,
                    home_users: p.home_users,
                    tagged_users: p.tagged_users,
                    total_users: p.total_users,
                    app_codes: p.app_codes,
                })
                .collect(),
        })))
    }

    /// A user's home pool and tags.
    #[oai(
        path = "/admin/users/:user_id/namespaces",
        method = "get",
        operation_id = "adminGetUserNamespaces"
    )]
    async fn of_user(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        user_id: Path<String>,
    ) -> poem::Result<PoolReadResponse<UserPoolsBody>> {
        require_system_admin(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        let (namespace, tags) = namespaces::of_user(&platform, id).await?;
        Ok(PoolReadResponse::Ok(Json(UserPoolsBody {
            namespace,
            namespaces: tags,
        })))
    }

    /// Move a user to another home pool (their access tokens are renewed by refresh).
    #[oai(
        path = "/admin/users/:user_id/namespace",
        method = "put",
        operation_id = "adminSetUserNamespace"
    )]
    async fn set_home(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        user_id: Path<String>,
        body: Json<NamespaceRequest>,
    ) -> poem::Result<PoolChangeResponse> {
        require_system_admin(&auth.0)?;
        let admin = caller_id(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        let pool = namespaces::pool("namespace", &body.0.namespace)?;
        namespaces::set_home(&platform, admin, id, &pool, &Client::of(req)).await?;
        Ok(PoolChangeResponse::NoContent)
    }

    /// Tag a user into a pool.
    #[oai(
        path = "/admin/users/:user_id/namespaces",
        method = "post",
        operation_id = "adminAddUserNamespace"
    )]
    async fn add_tag(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        user_id: Path<String>,
        body: Json<NamespaceRequest>,
    ) -> poem::Result<PoolChangeResponse> {
        require_system_admin(&auth.0)?;
        let admin = caller_id(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        let pool = namespaces::pool("namespace", &body.0.namespace)?;
        namespaces::change_tag(&platform, admin, id, &pool, true, &Client::of(req)).await?;
        Ok(PoolChangeResponse::NoContent)
    }

    /// Remove a user's tag (the home pool cannot be removed).
    #[oai(
        path = "/admin/users/:user_id/namespaces/:namespace",
        method = "delete",
        operation_id = "adminRemoveUserNamespace"
    )]
    async fn remove_tag(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        req: &Request,
        user_id: Path<String>,
        namespace: Path<String>,
    ) -> poem::Result<PoolChangeResponse> {
        require_system_admin(&auth.0)?;
        let admin = caller_id(&auth.0)?;
        let id = parse_id("user_id", &user_id.0)?;
        let pool = namespaces::pool("namespace", &namespace.0)?;
        namespaces::change_tag(&platform, admin, id, &pool, false, &Client::of(req)).await?;
        Ok(PoolChangeResponse::NoContent)
    }
}
