//! `/admin/apps*` (contract §2.11): app CRUD, `system_admin` only (§9.8).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use chrono::Utc;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiTags;
use super::app_dto::{AppList, AppRecord, CreateApp, PatchApp, Webhook};
use super::common::{AuditCtx, caller_id, internal, parse_id, require_system_admin};
use crate::domain::FieldError;
use crate::domain::apps as rules;
use crate::repo::apps::{self, AppRow};

/// Replies of `POST /admin/apps`.
#[derive(ApiResponse)]
pub enum CreateAppResponse {
    /// Created.
    #[oai(status = 201)]
    Created(Json<AppRecord>),
    /// Bad input.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a system admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// Code taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `GET /admin/apps`.
#[derive(ApiResponse)]
pub enum ListAppsResponse {
    /// Live apps.
    #[oai(status = 200)]
    Ok(Json<AppList>),
    /// Not a system admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Replies of `GET`/`PATCH /admin/apps/{appId}`.
#[derive(ApiResponse)]
pub enum AppResponse {
    /// The app.
    #[oai(status = 200)]
    Ok(Json<AppRecord>),
    /// Bad input or malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// No such app.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /admin/apps/{appId}`.
#[derive(ApiResponse)]
pub enum DeleteAppResponse {
    /// Soft-deleted.
    #[oai(status = 204)]
    NoContent,
    /// No such app.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// App administration.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdminAppsApi;

#[OpenApi(tag = "ApiTags::AdminApps")]
impl AdminAppsApi {
    /// Registers an app.
    #[oai(path = "/admin/apps", method = "post", operation_id = "createApp")]
    async fn create(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        body: Json<CreateApp>,
    ) -> poem::Result<CreateAppResponse> {
        require_system_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let mut row = new_row(body.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        validate(&mut tx, &mut row).await?;
        let saved = apps::save(&mut tx, &row, true).await.map_err(|e| {
            match auth_db::unique_violation(&e) {
                Some(_) => ApiError::conflict("An app with this code already exists"),
                None => internal(e),
            }
        })?;
        audit(&mut tx, &cx, "app.created", actor, &saved).await?;
        tx.commit().await.map_err(internal)?;
        Ok(CreateAppResponse::Created(Json(saved.into())))
    }

    /// Lists the live apps.
    #[oai(path = "/admin/apps", method = "get", operation_id = "listApps")]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<ListAppsResponse> {
        require_system_admin(&auth.0)?;
        let rows = apps::list(&platform.db).await.map_err(internal)?;
        Ok(ListAppsResponse::Ok(Json(AppList {
            apps: rows.into_iter().map(Into::into).collect(),
        })))
    }

    /// One live app.
    #[oai(path = "/admin/apps/:app_id", method = "get", operation_id = "getApp")]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// App id.
        app_id: Path<String>,
    ) -> poem::Result<AppResponse> {
        require_system_admin(&auth.0)?;
        let id = parse_id("app_id", &app_id.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        let row = apps::get(&mut conn, id, false)
            .await
            .map_err(internal)?
            .ok_or_else(app_not_found)?;
        Ok(AppResponse::Ok(Json(row.into())))
    }

    /// Changes an app (any field but `code`).
    #[oai(
        path = "/admin/apps/:app_id",
        method = "patch",
        operation_id = "updateApp"
    )]
    async fn update(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// App id.
        app_id: Path<String>,
        body: Json<PatchApp>,
    ) -> poem::Result<AppResponse> {
        require_system_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let id = parse_id("app_id", &app_id.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let mut row = apps::get(&mut tx, id, true)
            .await
            .map_err(internal)?
            .ok_or_else(app_not_found)?;
        apply_patch(&mut row, body.0)?;
        validate(&mut tx, &mut row).await?;
        let saved = apps::save(&mut tx, &row, false).await.map_err(internal)?;
        audit(&mut tx, &cx, "app.updated", actor, &saved).await?;
        tx.commit().await.map_err(internal)?;
        Ok(AppResponse::Ok(Json(saved.into())))
    }

    /// Soft-deletes an app.
    #[oai(
        path = "/admin/apps/:app_id",
        method = "delete",
        operation_id = "deleteApp"
    )]
    async fn delete(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// App id.
        app_id: Path<String>,
    ) -> poem::Result<DeleteAppResponse> {
        require_system_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let id = parse_id("app_id", &app_id.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let row = apps::get(&mut tx, id, true)
            .await
            .map_err(internal)?
            .ok_or_else(app_not_found)?;
        apps::soft_delete(&mut tx, id).await.map_err(internal)?;
        audit(&mut tx, &cx, "app.deleted", actor, &row).await?;
        tx.commit().await.map_err(internal)?;
        Ok(DeleteAppResponse::NoContent)
    }
}

/// 404 `NOT_FOUND` "app not found".
pub fn app_not_found() -> ApiError {
    ApiError::not_found("app not found")
}

fn field((f, m): FieldError) -> ApiError {
    ApiError::invalid_input(f, m)
}

fn org_id(raw: Option<String>) -> Result<Option<Uuid>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_id("default_organization_id", s).map(Some),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

fn webhooks_json(hooks: Vec<Webhook>) -> Result<serde_json::Value, ApiError> {
    for h in &hooks {
        rules::check_url("webhooks", &h.url).map_err(field)?;
        if h.events.is_empty()
            || h.events
                .iter()
                .any(|e| !rules::WEBHOOK_EVENTS.contains(&e.as_str()))
        {
            return Err(ApiError::invalid_input(
                "webhooks",
                "webhook events must be user.registered",
            ));
        }
    }
    serde_json::to_value(hooks).map_err(internal)
}

fn new_row(b: CreateApp) -> Result<AppRow, ApiError> {
    rules::check_code("code", &b.code).map_err(field)?;
    let now = Utc::now();
    Ok(AppRow {
        id: Uuid::nil(),
        service_codes: b.service_codes.unwrap_or_else(|| vec![b.code.clone()]),
        code: b.code,
        name: b.name.trim().to_owned(),
        description: b.description,
        allowed_redirect_urls: b.allowed_redirect_urls.unwrap_or_default(),
        auto_grant_on_signup: b.auto_grant_on_signup.unwrap_or(false),
        status: b.status.unwrap_or_else(|| "active".to_owned()),
        allowed_email_domains: b.allowed_email_domains.unwrap_or_default(),
        allowed_auth_methods: b.allowed_auth_methods.unwrap_or_default(),
        default_organization_id: org_id(b.default_organization_id)?,
        frontend_url: non_empty(b.frontend_url),
        registration_namespace: non_empty(b.registration_namespace),
        registration_namespaces: b.registration_namespaces.unwrap_or_default(),
        read_namespaces: b.read_namespaces.unwrap_or_default(),
        webhooks: webhooks_json(b.webhooks.unwrap_or_default())?,
        default_role_code: non_empty(b.default_role_code),
        linked_app_codes: b.linked_app_codes.unwrap_or_default(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    })
}

/// Applies a PATCH body to the current row (`null` clears optional fields, `[]` lists).
fn apply_patch(row: &mut AppRow, p: PatchApp) -> Result<(), ApiError> {
    let list = |v: MaybeUndefined<Vec<String>>, to: &mut Vec<String>| match v {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => to.clear(),
        MaybeUndefined::Value(x) => *to = x,
    };
    let required = |v: MaybeUndefined<String>, name: &'static str, to: &mut String| match v {
        MaybeUndefined::Undefined => Ok(()),
        MaybeUndefined::Null => Err(ApiError::invalid_input(
            name,
            format!("{name} cannot be null"),
        )),
        MaybeUndefined::Value(x) => {
            *to = x.trim().to_owned();
            Ok(())
        }
    };
    if let Some(code) = p.code.as_opt_deref()
        && code != Some(row.code.as_str())
    {
        return Err(ApiError::invalid_input("code", "code is immutable"));
    }
    required(p.name, "name", &mut row.name)?;
    required(p.status, "status", &mut row.status)?;
    p.description.update_to(&mut row.description);
    list(p.allowed_redirect_urls, &mut row.allowed_redirect_urls);
    list(p.service_codes, &mut row.service_codes);
    list(p.allowed_email_domains, &mut row.allowed_email_domains);
    list(p.allowed_auth_methods, &mut row.allowed_auth_methods);
    list(p.registration_namespaces, &mut row.registration_namespaces);
    list(p.read_namespaces, &mut row.read_namespaces);
    list(p.linked_app_codes, &mut row.linked_app_codes);
    match p.auto_grant_on_signup {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => row.auto_grant_on_signup = false,
        MaybeUndefined::Value(v) => row.auto_grant_on_signup = v,
    }
    if let Some(v) = p.default_organization_id.as_opt_deref() {
        row.default_organization_id = org_id(v.map(str::to_owned))?;
    }
    if let Some(v) = p.frontend_url.as_opt_deref() {
        row.frontend_url = non_empty(v.map(str::to_owned));
    }
    if let Some(v) = p.registration_namespace.as_opt_deref() {
        row.registration_namespace = non_empty(v.map(str::to_owned));
    }
    if let Some(v) = p.default_role_code.as_opt_deref() {
        row.default_role_code = non_empty(v.map(str::to_owned));
    }
    if let MaybeUndefined::Value(hooks) = p.webhooks {
        row.webhooks = webhooks_json(hooks)?;
    }
    Ok(())
}

/// Checks every field of a new or patched app, normalising lists, and the references to
/// organisations, roles and other apps (400 `INVALID_INPUT` naming the field).
async fn validate(conn: &mut PgConnection, row: &mut AppRow) -> Result<(), ApiError> {
    rules::check_name(&row.name).map_err(field)?;
    rules::check_status(&row.status).map_err(field)?;
    if row
        .description
        .as_deref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        return Err(ApiError::invalid_input(
            "description",
            "description must be at most 2000 characters",
        ));
    }
    row.service_codes = rules::check_codes("service_codes", std::mem::take(&mut row.service_codes))
        .map_err(field)?;
    row.allowed_email_domains =
        rules::check_domains(std::mem::take(&mut row.allowed_email_domains)).map_err(field)?;
    row.allowed_auth_methods =
        rules::check_methods(std::mem::take(&mut row.allowed_auth_methods)).map_err(field)?;
    row.registration_namespaces = rules::check_codes(
        "registration_namespaces",
        std::mem::take(&mut row.registration_namespaces),
    )
    .map_err(field)?;
    row.read_namespaces =
        rules::check_codes("read_namespaces", std::mem::take(&mut row.read_namespaces))
            .map_err(field)?;
    row.linked_app_codes = rules::check_codes(
        "linked_app_codes",
        std::mem::take(&mut row.linked_app_codes),
    )
    .map_err(field)?;
    if let Some(ns) = &row.registration_namespace {
        rules::check_code("registration_namespace", ns).map_err(field)?;
    }
    for url in &row.allowed_redirect_urls {
        rules::check_url("allowed_redirect_urls", url).map_err(field)?;
    }
    if let Some(url) = &row.frontend_url {
        rules::check_url("frontend_url", url).map_err(field)?;
    }
    if let Some(org) = row.default_organization_id
        && !apps::org_exists(conn, org).await.map_err(internal)?
    {
        return Err(ApiError::invalid_input(
            "default_organization_id",
            "organization not found",
        ));
    }
    if let Some(role) = &row.default_role_code {
        let Some(org) = row.default_organization_id else {
            return Err(ApiError::invalid_input(
                "default_role_code",
                "default_role_code requires default_organization_id",
            ));
        };
        if !apps::is_org_role(conn, role, org).await.map_err(internal)? {
            return Err(ApiError::invalid_input(
                "default_role_code",
                "default_role_code must be an org-scoped role",
            ));
        }
    }
    if row.linked_app_codes.contains(&row.code) {
        return Err(ApiError::invalid_input(
            "linked_app_codes",
            "an app cannot link itself",
        ));
    }
    let unknown = apps::unknown_codes(conn, &row.linked_app_codes)
        .await
        .map_err(internal)?;
    if !unknown.is_empty() {
        return Err(
            ApiError::invalid_input("linked_app_codes", "unknown app code")
                .with_details(json!({"field": "linked_app_codes", "codes": unknown})),
        );
    }
    Ok(())
}

async fn audit(
    conn: &mut PgConnection,
    cx: &AuditCtx,
    action: &str,
    actor: Uuid,
    row: &AppRow,
) -> Result<(), ApiError> {
    let event = cx
        .event(action, Some(actor))?
        .resource("app", Some(row.id))
        .details(json!({"app_code": row.code}));
    auth_bus::enqueue_audit(conn, &event)
        .await
        .map_err(internal)
}
