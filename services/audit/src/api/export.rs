//! `GET /admin/audit-log/export` ([P]): the rows of a time range as NDJSON, streamed, in chain
//! order with the chain columns, for shipping to a log store.

use auth_edge::ErrorEnvelope;
use auth_host::Platform;
use chrono::{DateTime, SecondsFormat, Utc};
use jwt_verify::poem::BearerAuth;
use poem::Body;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi};
use serde::Serialize;
use sqlx::PgPool;

use super::ApiTags;
use super::params::{hex_hash, require_platform_admin, time_param};
use crate::repo::audit_log::{ExportRow, export_page};

/// Rows read per query while streaming.
const PAGE: i64 = 1000;

/// One NDJSON line.
#[derive(Serialize)]
struct Line {
    seq: i64,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<String>,
    action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<serde_json::Value>,
    created_at: String,
    prev_hash: String,
    hash: String,
}

impl From<ExportRow> for Line {
    fn from(r: ExportRow) -> Self {
        let s = |u: Option<uuid::Uuid>| u.map(|u| u.to_string());
        Self {
            seq: r.seq,
            id: r.row.id.to_string(),
            event_id: s(r.event_id),
            user_id: s(r.row.user_id),
            organization_id: s(r.row.organization_id),
            action: r.row.action,
            resource_type: r.row.resource_type,
            resource_id: s(r.row.resource_id),
            ip_address: r.row.ip_address,
            user_agent: r.row.user_agent,
            details: r.row.details,
            created_at: r
                .row
                .created_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            prev_hash: hex_hash(&r.prev_hash),
            hash: hex_hash(&r.hash),
        }
    }
}

/// Replies of `GET /admin/audit-log/export`.
#[derive(ApiResponse)]
pub enum ExportResponse {
    /// One JSON object per line, oldest (lowest `seq`) first.
    #[oai(status = 200, content_type = "application/x-ndjson")]
    Ok(Binary<Body>),
    /// A malformed time bound.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Export of the audit log.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExportApi;

#[OpenApi(tag = "ApiTags::Audit")]
impl ExportApi {
    /// Streams the audit events of a time range as NDJSON, in chain order, with `seq`,
    /// `prev_hash` and `hash` so the shipped copy can be checked too.
    #[oai(
        path = "/admin/audit-log/export",
        method = "get",
        operation_id = "exportAuditLog"
    )]
    async fn export(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// Inclusive lower bound of `created_at` (RFC 3339); default: the oldest row.
        since: Query<Option<String>>,
        /// Exclusive upper bound of `created_at` (RFC 3339); default: no bound.
        until: Query<Option<String>>,
    ) -> poem::Result<ExportResponse> {
        require_platform_admin(&auth)?;
        let since = time_param("since", since.0)?;
        let until = time_param("until", until.0)?;
        let body = Body::from_bytes_stream(lines(platform.db.clone(), since, until));
        Ok(ExportResponse::Ok(Binary(body)))
    }
}

/// The NDJSON body: keyset pages of [`PAGE`] rows, one chunk per page.
fn lines(
    db: PgPool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    futures::stream::unfold(Some(0_i64), move |after| {
        let db = db.clone();
        async move {
            let after = after?;
            let rows = match export_page(&db, since, until, after, PAGE).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed mid-stream");
                    return Some((Err(std::io::Error::other("audit export failed")), None));
                }
            };
            let last = rows.last()?.seq;
            let next = (rows.len() as i64 >= PAGE).then_some(last);
            let mut buf = Vec::with_capacity(rows.len() * 400);
            for row in rows {
                if serde_json::to_writer(&mut buf, &Line::from(row)).is_ok() {
                    buf.push(b'\n');
                }
            }
            Some((Ok(bytes::Bytes::from(buf)), next))
        }
    })
}
