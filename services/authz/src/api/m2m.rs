//! `/admin/m2m-clients*` (contract §2.11): register (secret shown once), list, get, revoke.
//! `system_admin` only (§9.8).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;

use super::ApiTags;
use super::common::{AuditCtx, caller_id, internal, parse_id, require_system_admin, ts, ts_opt};
use crate::domain::{m2m as rules, secret};
use crate::repo::m2m::{self, ClientRow, NewClient};

/// A machine-to-machine client (its secret is never shown again).
#[derive(Debug, Object)]
pub struct M2MClient {
    /// Row id (the `{clientId}` of the admin paths).
    pub id: String,
    /// The OAuth `client_id`.
    pub client_id: String,
    /// Display name (the token's `service_name`).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Scopes the client may be granted.
    pub scopes: Vec<String>,
    /// Audiences recorded for the client.
    pub allowed_audiences: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// Last successful token grant (minute precision).
    #[oai(skip_serializing_if_is_none)]
    pub last_used_at: Option<String>,
    /// When the client was revoked.
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<String>,
    /// The admin who registered it.
    #[oai(skip_serializing_if_is_none)]
    pub created_by: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<ClientRow> for M2MClient {
    fn from(r: ClientRow) -> Self {
        Self {
            id: r.id.to_string(),
            client_id: r.client_id,
            name: r.name,
            description: r.description.unwrap_or_default(),
            scopes: r.scopes,
            allowed_audiences: r.allowed_audiences,
            status: r.status,
            last_used_at: ts_opt(r.last_used_at),
            revoked_at: ts_opt(r.revoked_at),
            created_by: r.created_by.map(|u| u.to_string()),
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

/// Body of `POST /admin/m2m-clients`.
#[derive(Debug, Object)]
pub struct CreateM2MClient {
    /// 3–100 characters of letters, digits, `.`, `_`, `-`; unique, immutable.
    pub client_id: String,
    /// Display name (≤ 200 characters).
    pub name: String,
    /// Free text (≤ 2000 characters).
    pub description: Option<String>,
    /// Scopes the client may request.
    #[oai(default)]
    pub scopes: Vec<String>,
    /// Audiences recorded for the client.
    #[oai(default)]
    pub allowed_audiences: Vec<String>,
}

/// The new client and its secret (shown this once).
#[derive(Debug, Object)]
pub struct CreatedM2MClient {
    /// The client.
    pub client: M2MClient,
    /// 64 random characters; store it now, it cannot be shown again.
    pub client_secret: String,
}

/// `{clients: [...]}`.
#[derive(Debug, Object)]
pub struct M2MClientList {
    /// Non-revoked clients, newest first.
    pub clients: Vec<M2MClient>,
}

/// Replies of `POST /admin/m2m-clients`.
#[derive(ApiResponse)]
pub enum CreateM2MResponse {
    /// Registered.
    #[oai(status = 201)]
    Created(Json<CreatedM2MClient>),
    /// Bad input.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Not a system admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// `client_id` taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
}

/// Replies of `GET /admin/m2m-clients`.
#[derive(ApiResponse)]
pub enum ListM2MResponse {
    /// The clients.
    #[oai(status = 200)]
    Ok(Json<M2MClientList>),
    /// Not a system admin.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
}

/// Replies of `GET /admin/m2m-clients/{clientId}`.
#[derive(ApiResponse)]
pub enum GetM2MResponse {
    /// The client.
    #[oai(status = 200)]
    Ok(Json<M2MClient>),
    /// Malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// No such client.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Replies of `DELETE /admin/m2m-clients/{clientId}`.
#[derive(ApiResponse)]
pub enum RevokeM2MResponse {
    /// Revoked; outstanding tokens live until they expire.
    #[oai(status = 204)]
    NoContent,
    /// Malformed id.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// No such live client.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// m2m client administration.
#[derive(Debug, Default, Clone)]
pub struct M2MApi {
    /// Per-application state (the client cache a revoke invalidates).
    pub shared: crate::state::Shared,
}

#[OpenApi(tag = "ApiTags::M2m")]
impl M2MApi {
    /// Registers an m2m client; the reply carries its secret, shown only this once.
    #[oai(
        path = "/admin/m2m-clients",
        method = "post",
        operation_id = "createM2MClient"
    )]
    async fn create(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        body: Json<CreateM2MClient>,
    ) -> poem::Result<CreateM2MResponse> {
        require_system_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let b = body.0;
        let field = |(f, m): rules::FieldError| ApiError::invalid_input(f, m);
        rules::check_client_id(&b.client_id).map_err(field)?;
        rules::check_texts(&b.name, b.description.as_deref()).map_err(field)?;
        let scopes = rules::clean_words("scopes", b.scopes).map_err(field)?;
        let audiences =
            rules::clean_words("allowed_audiences", b.allowed_audiences).map_err(field)?;
        let client_secret = secret::generate();
        let key = secret::SecretKey::derive(platform.settings.jwt.access_secret.expose());
        let hash = key.hash(&client_secret);
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let row = m2m::insert(
            &mut tx,
            &NewClient {
                client_id: &b.client_id,
                secret_hash: &hash,
                name: b.name.trim(),
                description: b.description.as_deref(),
                scopes: &scopes,
                allowed_audiences: &audiences,
                created_by: actor,
            },
        )
        .await
        .map_err(|e| match auth_db::unique_violation(&e) {
            Some(_) => ApiError::conflict("An m2m client with this client_id already exists"),
            None => internal(e),
        })?;
        let event = cx
            .event("m2m.client_created", Some(actor))?
            .resource("m2m_client", Some(row.id))
            .details(json!({"client_id": row.client_id, "scopes": row.scopes}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(CreateM2MResponse::Created(Json(CreatedM2MClient {
            client: row.into(),
            client_secret,
        })))
    }

    /// Lists the non-revoked m2m clients.
    #[oai(
        path = "/admin/m2m-clients",
        method = "get",
        operation_id = "listM2MClients"
    )]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<ListM2MResponse> {
        require_system_admin(&auth.0)?;
        let rows = m2m::list(&platform.db).await.map_err(internal)?;
        Ok(ListM2MResponse::Ok(Json(M2MClientList {
            clients: rows.into_iter().map(Into::into).collect(),
        })))
    }

    /// One m2m client by its row id (revoked ones too).
    #[oai(
        path = "/admin/m2m-clients/:client_id",
        method = "get",
        operation_id = "getM2MClient"
    )]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// The client's row id (not its `client_id` string).
        client_id: Path<String>,
    ) -> poem::Result<GetM2MResponse> {
        require_system_admin(&auth.0)?;
        let id = parse_id("client_id", &client_id.0)?;
        let row = m2m::get(&platform.db, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::not_found("m2m client not found"))?;
        Ok(GetM2MResponse::Ok(Json(row.into())))
    }

    /// Revokes an m2m client: no new tokens; outstanding ones live until they expire.
    #[oai(
        path = "/admin/m2m-clients/:client_id",
        method = "delete",
        operation_id = "revokeM2MClient"
    )]
    async fn revoke(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        cx: AuditCtx,
        /// The client's row id.
        client_id: Path<String>,
    ) -> poem::Result<RevokeM2MResponse> {
        require_system_admin(&auth.0)?;
        let actor = caller_id(&auth.0)?;
        let id = parse_id("client_id", &client_id.0)?;
        let mut tx = platform.db.begin().await.map_err(internal)?;
        let revoked = m2m::revoke(&mut tx, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::not_found("m2m client not found"))?;
        let event = cx
            .event("m2m.client_revoked", Some(actor))?
            .resource("m2m_client", Some(id))
            .details(json!({"client_id": revoked}));
        auth_bus::enqueue_audit(&mut tx, &event)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        // every replica drops its cached copy (crate::clients: bounded staleness)
        self.shared
            .get(&platform)
            .clients
            .announce(&platform, &revoked)
            .await;
        Ok(RevokeM2MResponse::NoContent)
    }
}
