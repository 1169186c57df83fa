//! User app grants (contract §2.11, platform admins) and `GET /me/apps` (§2.8).
//! Revoking a grant bumps the user's token version (§9.5).

use auth_edge::{ApiError, ErrorCode, ErrorEnvelope};
use auth_host::{Platform, RedisTokenVersionMirror};
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::admin_apps::app_not_found;
use super::app_dto::{AppList, AppRecord};
use super::common::{AuditCtx, caller_id, internal, parse_id, require_platform_admin};
use crate::repo::{apps, users};

/// Replies of `GET /admin/users/{userId}/apps` and `GET /me/apps`.
#[derive(ApiResponse)]
pub enum UserAppsResponse {
    /// Apps with an active grant.
    #[oai(status = 200)]
    Ok(Json<AppList>),
    /// Malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// No such user.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of grant and revoke.
#[derive(ApiResponse)]
pub enum GrantResponse {
    /// Done (idempotent).
    #[oai(status = 204)]
    NoContent,
    /// Malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// No such user or app.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// 404 `USER_NOT_FOUND`.
pub fn user_not_found() -> ApiError {
    ApiError::new(ErrorCode::UserNotFound, "user not found")
}

/// App grants.
#[derive(Debug, Default, Clone, Copy)]
pub struct GrantsApi;

#[OpenApi(tag = "ApiTags::AdminApps")]
impl GrantsApi {
    /// The apps a user holds an active grant for.
    #[oai(
        path = "/admin/users/:user_id/apps",
        method = "get",
        operation_id = "listUserApps"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// User id.
        user_id: Path<String>,
    ) -> poem::Result<UserAppsResponse> {
        require_platform_admin(&auth.0)?;
        let user = parse_id("user_id", &user_id.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        if !users::exists(&mut conn, user).await.map_err(internal)? {
            return Err(user_not_found().into());
        }
        let rows = apps::granted_to(&platform.db, user)
            .await
            .map_err(internal)?;
        Ok(UserAppsResponse::Ok(Json(AppList {
            apps: rows.into_iter().map(Into::into).collect(),
        })))
    }

    /// Grants an app to a user (idempotent; re-activates a revoked grant).
    #[oai(
        path = "/admin/users/:user_id/apps/:app_id",
        method = "post",
        operation_id = "grantUserApp"
    )]
    async fn grant(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// User id.
        user_id: Path<String>,
        /// App id.
        app_id: Path<String>,
    ) -> poem::Result<GrantResponse> {
        require_platform_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let (user, app) = (
            parse_id("user_id", &user_id.0)?,
            parse_id("app_id", &app_id.0)?,
        );
        let mut tx = platform.db.begin().await.map_err(internal)?;
        check_refs(&mut tx, user, app).await?;
        let by = users::exists(&mut tx, actor)
            .await
            .map_err(internal)?
            .then_some(actor);
        if auth_tokens::grant_app(&mut tx, user, app, by)
            .await
            .map_err(internal)?
        {
            let event = cx
                .event("user.app_granted", Some(actor))?
                .subject_user(user)
                .resource("app", Some(app));
            auth_bus::enqueue_audit(&mut tx, &event)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(GrantResponse::NoContent)
    }

    /// Revokes a user's app grant and bumps their token version (§9.5).
    #[oai(
        path = "/admin/users/:user_id/apps/:app_id",
        method = "delete",
        operation_id = "revokeUserApp"
    )]
    async fn revoke(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// User id.
        user_id: Path<String>,
        /// App id.
        app_id: Path<String>,
    ) -> poem::Result<GrantResponse> {
        require_platform_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let (user, app) = (
            parse_id("user_id", &user_id.0)?,
            parse_id("app_id", &app_id.0)?,
        );
        let mut tx = platform.db.begin().await.map_err(internal)?;
        check_refs(&mut tx, user, app).await?;
        let mut bump = None;
        if apps::revoke_grant(&mut tx, user, app)
            .await
            .map_err(internal)?
        {
            bump = Some(
                auth_bus::bump_token_version_in_tx(&mut tx, user)
                    .await
                    .map_err(internal)?,
            );
            let event = cx
                .event("user.app_revoked", Some(actor))?
                .subject_user(user)
                .resource("app", Some(app));
            auth_bus::enqueue_audit(&mut tx, &event)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        if let Some(b) = bump {
            publish(&platform, b).await;
        }
        Ok(GrantResponse::NoContent)
    }
}

/// Publishes a committed token-version bump (NATS KV, then the Redis mirror).
pub async fn publish(platform: &Platform, bump: auth_bus::TokenVersionBump) {
    let mirror = RedisTokenVersionMirror::new(platform.cache.clone());
    bump.publish_after_commit(Some(&platform.bus), Some(&mirror))
        .await;
}

async fn check_refs(conn: &mut sqlx::PgConnection, user: Uuid, app: Uuid) -> Result<(), ApiError> {
    if !users::exists(conn, user).await.map_err(internal)? {
        return Err(user_not_found());
    }
    if apps::get(conn, app, false)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(app_not_found());
    }
    Ok(())
}

/// The caller's own apps.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeAppsApi;

#[OpenApi(tag = "ApiTags::Me")]
impl MeAppsApi {
    /// The apps the caller holds an active grant for; `webhooks` is always empty (webhook URLs
    /// are secrets only admins see).
    #[oai(path = "/me/apps", method = "get", operation_id = "listMyApps")]
    async fn my_apps(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<UserAppsResponse> {
        let me = caller_id(&auth.0)?;
        let rows = apps::granted_to(&platform.db, me).await.map_err(internal)?;
        Ok(UserAppsResponse::Ok(Json(AppList {
            apps: rows
                .into_iter()
                .map(|r| AppRecord::from(r).without_webhooks())
                .collect(),
        })))
    }
}
