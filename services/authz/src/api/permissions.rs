//! `POST /admin/permissions/register` (contract §2.11, §6.2, §9.12): a service reconciles its
//! permission slice. Callers: a `system_admin` user (any service), or an m2m service token
//! with `permissions:register` for the service named like its `client_id`, or with
//! `permissions:register:<service>` for that service. A prune bumps the token version of every
//! holder of a role that loses a permission, in the same transaction (AZ-02, §9.6).

use auth_edge::{ApiError, ErrorCode, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::Principal;
use jwt_verify::poem::BearerPrincipal;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;

use super::ApiTags;
use super::common::{AuditCtx, SYSTEM_ADMIN, internal};
use super::org_gate::{bump_all, publish_all};
use crate::domain::permissions::{self as rules, NewPermission};
use crate::repo::permissions as repo;

/// The scope a service token needs here (§9.12).
pub const REGISTER_SCOPE: &str = "permissions:register";

/// Whether `scope` lets a service token call the registry at all.
fn is_register_scope(scope: &str) -> bool {
    scope == REGISTER_SCOPE
        || scope
            .strip_prefix(REGISTER_SCOPE)
            .is_some_and(|rest| rest.len() > 1 && rest.starts_with(':'))
}

/// Whether a service token may reconcile `service`: `permissions:register` for its own
/// slice (`service` = `client_id`), or `permissions:register:<service>` for a named one.
fn may_register(client_id: &str, scopes: &[String], service: &str) -> bool {
    let named = format!("{REGISTER_SCOPE}:{service}");
    scopes
        .iter()
        .any(|s| *s == named || (s == REGISTER_SCOPE && service == client_id))
}

/// One permission of the slice.
#[derive(Debug, Object)]
pub struct PermissionInput {
    /// Lower-case `resource:action`, globally unique.
    pub code: String,
    /// Display name (defaults to the code).
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Resource.
    pub resource: String,
    /// Action.
    pub action: String,
    /// Category.
    pub category: Option<String>,
}

/// Body of `POST /admin/permissions/register`.
#[derive(Debug, Object)]
pub struct RegisterPermissions {
    /// The owning service (not `core`).
    pub service: String,
    /// The complete slice: codes missing from it are deleted.
    pub permissions: Vec<PermissionInput>,
}

/// The outcome of a reconcile.
#[derive(Debug, Object)]
pub struct RegisterResult {
    /// The service.
    pub service: String,
    /// Permissions inserted or updated.
    pub upserted_count: u64,
    /// Codes deleted (and removed from every role).
    #[oai(skip_serializing_if_is_none)]
    pub pruned_codes: Option<Vec<String>>,
}

/// Replies of `POST /admin/permissions/register`.
#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// Reconciled.
    #[oai(status = 200)]
    Ok(Json<RegisterResult>),
    /// Bad input, or `service` = `core`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Neither a system admin nor a service token allowed to register this service.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// A code belongs to another service.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// The permission registry.
#[derive(Debug, Default, Clone, Copy)]
pub struct PermissionsApi;

#[OpenApi(tag = "ApiTags::Roles")]
impl PermissionsApi {
    /// Upserts a service's permissions and prunes the ones it no longer lists.
    #[oai(
        path = "/admin/permissions/register",
        method = "post",
        operation_id = "registerPermissions"
    )]
    async fn register(
        &self,
        platform: Data<&Platform>,
        auth: BearerPrincipal,
        cx: AuditCtx,
        body: Json<RegisterPermissions>,
    ) -> poem::Result<RegisterResponse> {
        let (actor, client) = match &auth.0 {
            Principal::User(c) if c.has_role(SYSTEM_ADMIN) => {
                (uuid::Uuid::parse_str(&c.uid).ok(), None)
            }
            Principal::Service(c) if c.scopes.iter().any(|s| is_register_scope(s)) => {
                (None, Some(c))
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InsufficientPermissions,
                    "System admin or the permissions:register scope required",
                )
                .into());
            }
        };
        let b = body.0;
        let field = |(f, m): rules::FieldError| ApiError::invalid_input(f, m);
        rules::check_service(&b.service).map_err(field)?;
        if let Some(c) = client
            && !may_register(&c.client_id, &c.scopes, &b.service)
        {
            return Err(ApiError::new(
                ErrorCode::InsufficientPermissions,
                "A service token may register only its own service (client_id) or one named by a permissions:register:<service> scope",
            )
            .into());
        }
        let client = client.map(|c| c.client_id.clone());
        let list = rules::check_list(
            b.permissions
                .into_iter()
                .map(|p| NewPermission {
                    code: p.code,
                    name: p.name.unwrap_or_default(),
                    description: p.description,
                    resource: p.resource,
                    action: p.action,
                    category: p.category,
                })
                .collect(),
        )
        .map_err(field)?;
        let codes: Vec<String> = list.iter().map(|p| p.code.clone()).collect();
        let mut tx = platform.db.begin().await.map_err(internal)?;
        repo::lock_service(&mut tx, &b.service)
            .await
            .map_err(internal)?;
        let foreign = repo::foreign_codes(&mut tx, &b.service, &codes)
            .await
            .map_err(internal)?;
        if !foreign.is_empty() {
            return Err(
                ApiError::conflict("Permission codes belong to another service")
                    .with_details(json!({"codes": foreign}))
                    .into(),
            );
        }
        let upserted = repo::upsert(&mut tx, &b.service, &list)
            .await
            .map_err(internal)?;
        if upserted != list.len() as u64 {
            // another service took a code between the check and the write
            return Err(ApiError::conflict("Permission codes belong to another service").into());
        }
        // every holder of a role losing a permission gets a new token version (AZ-02, §9.6)
        let holders = repo::holders_of_pruned(&mut tx, &b.service, &codes)
            .await
            .map_err(internal)?;
        let bumps = bump_all(&mut tx, &holders).await?;
        let pruned = repo::prune(&mut tx, &b.service, &codes)
            .await
            .map_err(internal)?;
        let mut event = cx.event("permissions.registered", actor)?.details(json!({
            "service": b.service, "upserted_count": upserted, "pruned_codes": pruned,
            "client_id": client,
        }));
        event.resource_type = Some("permission_service".to_owned());
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        publish_all(&platform, bumps).await;
        Ok(RegisterResponse::Ok(Json(RegisterResult {
            service: b.service,
            upserted_count: upserted,
            pruned_codes: (!pruned.is_empty()).then_some(pruned),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_tokens_register_their_own_or_named_services_only() {
        let own = vec![REGISTER_SCOPE.to_owned()];
        assert!(may_register("billing", &own, "billing"));
        assert!(!may_register("billing", &own, "payments"));
        let named = vec![format!("{REGISTER_SCOPE}:payments")];
        assert!(may_register("deployer", &named, "payments"));
        assert!(!may_register("deployer", &named, "billing"));
        assert!(!may_register("payments", &named, "paymentsx"));
        assert!(is_register_scope("permissions:register:x"));
        assert!(!is_register_scope("permissions:register:"));
        assert!(!is_register_scope("permissions:registerx"));
    }
}
