//! `GET /admin/audit-log/verify` ([P]): walks the hash chain and names the first altered or
//! removed row.

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::params::{hex_hash, require_platform_admin};
use crate::domain::chain::Problem;
use crate::repo::chain::{ChainCheck, verify};

/// The first break in the chain.
#[derive(Debug, Object)]
pub struct ChainProblem {
    /// `altered` (a row's content, hash or link changed) or `removed` (rows are missing).
    pub reason: String,
    /// `seq` of the altered row, or of the first missing row.
    pub seq: i64,
    /// `seq` of the last missing row (`removed` only).
    #[oai(skip_serializing_if_is_none)]
    pub to_seq: Option<i64>,
    /// Id of the altered row (`altered` only).
    #[oai(skip_serializing_if_is_none)]
    pub id: Option<String>,
    /// What does not match.
    pub message: String,
}

/// The result of a chain verification.
#[derive(Debug, Object)]
pub struct ChainReport {
    /// Whether every row from the genesis (or the latest retention checkpoint) verifies.
    pub ok: bool,
    /// Rows checked.
    pub checked: i64,
    /// `seq` of the last verified row.
    #[oai(skip_serializing_if_is_none)]
    pub head_seq: Option<i64>,
    /// Hash of the last verified row (hex); keep it elsewhere to detect later truncation.
    #[oai(skip_serializing_if_is_none)]
    pub head_hash: Option<String>,
    /// `seq` of the latest retention checkpoint, when older rows were purged.
    #[oai(skip_serializing_if_is_none)]
    pub checkpoint_seq: Option<i64>,
    /// The first problem found.
    #[oai(skip_serializing_if_is_none)]
    pub problem: Option<ChainProblem>,
}

/// Replies of `GET /admin/audit-log/verify`.
#[derive(ApiResponse)]
pub enum VerifyResponse {
    /// The verdict (also when the chain is broken).
    #[oai(status = 200)]
    Ok(Json<ChainReport>),
    /// Missing or invalid token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// Not a platform admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Tamper evidence of the audit log.
#[derive(Debug, Default, Clone, Copy)]
pub struct ChainApi;

#[OpenApi(tag = "ApiTags::Audit")]
impl ChainApi {
    /// Verifies the audit log's hash chain and names the first altered or removed row.
    #[oai(
        path = "/admin/audit-log/verify",
        method = "get",
        operation_id = "verifyAuditLog"
    )]
    async fn verify(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<VerifyResponse> {
        require_platform_admin(&auth)?;
        let check = verify(&platform.db).await.map_err(ApiError::internal)?;
        Ok(VerifyResponse::Ok(Json(report(check))))
    }
}

fn report(check: ChainCheck) -> ChainReport {
    let verdict = check.verdict;
    let problem = verdict.problem.map(|p| match p {
        Problem::Altered { seq, id, detail } => ChainProblem {
            reason: "altered".to_owned(),
            seq,
            to_seq: None,
            id: Some(id.to_string()),
            message: detail,
        },
        Problem::Removed { from_seq, to_seq } => ChainProblem {
            reason: "removed".to_owned(),
            seq: from_seq,
            to_seq: Some(to_seq),
            id: None,
            message: format!("rows {from_seq}..={to_seq} are missing"),
        },
    });
    ChainReport {
        ok: problem.is_none(),
        checked: i64::try_from(verdict.checked).unwrap_or(i64::MAX),
        head_seq: verdict.head.as_ref().map(|h| h.0),
        head_hash: verdict.head.as_ref().map(|h| hex_hash(&h.1)),
        checkpoint_seq: check.checkpoint_seq,
        problem,
    }
}
