//! `GET /admin/audit-log` (contract §2.11): platform admins read the audit trail.

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use chrono::SecondsFormat;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::params::{require_platform_admin, time_param, uuid_param};
use crate::repo::audit_log::{self, AuditFilter, AuditRow};

const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;

/// One audit event.
#[derive(Debug, Object)]
pub struct AuditEntry {
    /// Row id.
    pub id: String,
    /// The actor.
    #[oai(skip_serializing_if_is_none)]
    pub user_id: Option<String>,
    /// The organisation concerned.
    #[oai(skip_serializing_if_is_none)]
    pub organization_id: Option<String>,
    /// Event name (contract §7.3).
    pub action: String,
    /// Kind of the resource acted on.
    #[oai(skip_serializing_if_is_none)]
    pub resource_type: Option<String>,
    /// Id of the resource acted on.
    #[oai(skip_serializing_if_is_none)]
    pub resource_id: Option<String>,
    /// Client IP.
    #[oai(skip_serializing_if_is_none)]
    pub ip_address: Option<String>,
    /// Client user agent.
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    /// Event details.
    #[oai(skip_serializing_if_is_none)]
    pub details: Option<serde_json::Value>,
    /// When it happened (RFC 3339).
    pub created_at: String,
}

/// A page of audit events, newest first.
#[derive(Debug, Object)]
pub struct AuditPage {
    /// The events.
    pub entries: Vec<AuditEntry>,
    /// Page number (from 1).
    pub page: i64,
    /// Page size.
    pub page_size: i64,
    /// Number of matching events.
    pub total: i64,
}

/// Replies of `GET /admin/audit-log`.
#[derive(ApiResponse)]
pub enum AuditLogResponse {
    /// A page of events.
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
    /// A malformed filter.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// The audit log.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuditLogApi;

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditLogApi {
    /// Audit events filtered by action, actor, organisation and time range, newest first.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/admin/audit-log",
        method = "get",
        operation_id = "listAuditLog"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Exact event name, e.g. `login.success`.
        action: Query<Option<String>>,
        /// Actor's user id.
        user_id: Query<Option<String>>,
        /// Organisation id.
        organization_id: Query<Option<String>>,
        /// Inclusive lower bound (RFC 3339).
        since: Query<Option<String>>,
        /// Exclusive upper bound (RFC 3339).
        until: Query<Option<String>>,
        /// Page number, from 1 (default 1).
        page: Query<Option<i64>>,
        /// Page size (default 50, at most 500).
        page_size: Query<Option<i64>>,
    ) -> poem::Result<AuditLogResponse> {
        require_platform_admin(&auth)?;
        let filter = AuditFilter {
            action: action.0.filter(|a| !a.is_empty()),
            user_id: uuid_param("user_id", user_id.0)?,
            organization_id: uuid_param("organization_id", organization_id.0)?,
            since: time_param("since", since.0)?,
            until: time_param("until", until.0)?,
        };
        let page = page.0.unwrap_or(1);
        let page_size = page_size.0.unwrap_or(DEFAULT_PAGE_SIZE);
        if page < 1 {
            return Err(ApiError::invalid_input("page", "page must be at least 1").into());
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(ApiError::invalid_input(
                "page_size",
                "page_size must be between 1 and 500",
            )
            .into());
        }
        let offset = (page - 1).saturating_mul(page_size);
        let (rows, total) = audit_log::list(&platform.db, &filter, page_size, offset)
            .await
            .map_err(ApiError::internal)?;
        let entries = rows.into_iter().map(entry).collect();
        Ok(AuditLogResponse::Ok(Json(AuditPage {
            entries,
            page,
            page_size,
            total,
        })))
    }
}

fn entry(row: AuditRow) -> AuditEntry {
    AuditEntry {
        id: row.id.to_string(),
        user_id: row.user_id.map(|u| u.to_string()),
        organization_id: row.organization_id.map(|u| u.to_string()),
        action: row.action,
        resource_type: row.resource_type,
        resource_id: row.resource_id.map(|u| u.to_string()),
        ip_address: row.ip_address,
        user_agent: row.user_agent,
        details: row.details,
        created_at: row.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}
