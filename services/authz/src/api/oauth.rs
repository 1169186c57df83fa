//! `POST /oauth/token` (contract §2.7, RFC 6749 §4.4): the client_credentials grant, with
//! client authentication in the body (form or JSON) or HTTP Basic (§2.3.1). Replies use the
//! OAuth error shape `{"error","error_description"}`, never the app envelope, and carry
//! `Cache-Control: no-store` and `Pragma: no-cache`.

use std::sync::LazyLock;

use auth_host::Platform;
use poem::http::header;
use poem::web::Data;
use poem::{Request, RequestBody};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
};

use super::ApiTags;
use super::common::AuditCtx;
use crate::domain::oauth::{self, OAuthErrorCode, OAuthFailure, RawRequest, TokenRequest};
use crate::domain::secret::{self, HashKind, SecretKey};
use crate::repo::m2m;

/// The token request as documented (form or JSON; credentials may come in Basic instead).
#[derive(Debug, Object)]
pub struct ClientCredentialsRequest {
    /// Must be `client_credentials`.
    pub grant_type: String,
    /// The client id (or in `Authorization: Basic`).
    pub client_id: Option<String>,
    /// The client secret (or in `Authorization: Basic`).
    pub client_secret: Option<String>,
    /// Space-separated scopes; omitted = every scope of the client.
    pub scope: Option<String>,
}

/// The body as received; parsing happens in the handler so that every failure answers in
/// the OAuth error shape.
pub struct TokenBody {
    content_type: Option<String>,
    body: Result<Vec<u8>, ()>,
}

impl<'a> ApiExtractor<'a> for TokenBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <ClientCredentialsRequest as Type>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        let schema = <ClientCredentialsRequest as Type>::schema_ref;
        Some(MetaRequest {
            description: Some("Form-encoded or JSON; an empty Content-Type is read as JSON."),
            content: vec![
                MetaMediaType {
                    content_type: "application/x-www-form-urlencoded",
                    schema: schema(),
                },
                MetaMediaType {
                    content_type: "application/json",
                    schema: schema(),
                },
            ],
            required: true,
        })
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _opts: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let content_type = req.content_type().map(str::to_owned);
        let body = match body.take() {
            Ok(b) => b.into_vec().await.map_err(|_| ()),
            Err(_) => Ok(Vec::new()),
        };
        Ok(Self { content_type, body })
    }
}

/// A successful grant (no refresh token, RFC 6749 §4.4.3).
#[derive(Debug, Object)]
pub struct TokenGranted {
    /// The service token (JWT, contract §3.2).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds (`JWT_ACCESS_EXPIRY`).
    pub expires_in: i64,
    /// Expiry (RFC 3339).
    pub expires_at: String,
    /// Granted scopes, space-separated; omitted when none.
    #[oai(skip_serializing_if_is_none)]
    pub scope: Option<String>,
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug, Object)]
pub struct OAuthError {
    /// `invalid_request`, `unsupported_grant_type`, `invalid_client` or `server_error`.
    pub error: String,
    /// Human-readable text.
    pub error_description: String,
}

const NO_STORE: &str = "no-store";
const NO_CACHE: &str = "no-cache";

/// Replies of `POST /oauth/token`.
#[derive(ApiResponse)]
pub enum TokenResponse {
    /// The service token.
    #[oai(status = 200)]
    Ok(
        Json<TokenGranted>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `invalid_request` or `unsupported_grant_type`.
    #[oai(status = 400)]
    BadRequest(
        Json<OAuthError>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `invalid_client`: unknown client, wrong secret or revoked client (all identical).
    #[oai(status = 401)]
    Unauthorized(
        Json<OAuthError>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        #[oai(header = "WWW-Authenticate")] Option<String>,
    ),
    /// `server_error`.
    #[oai(status = 500)]
    ServerError(
        Json<OAuthError>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
}

impl TokenResponse {
    fn failure(f: &OAuthFailure) -> Self {
        let body = Json(OAuthError {
            error: f.code.as_str().to_owned(),
            error_description: f.description.to_owned(),
        });
        match f.code {
            OAuthErrorCode::InvalidClient => Self::Unauthorized(
                body,
                NO_STORE.into(),
                NO_CACHE.into(),
                f.basic
                    .then(|| "Basic realm=\"oauth\", charset=\"UTF-8\"".to_owned()),
            ),
            _ => Self::BadRequest(body, NO_STORE.into(), NO_CACHE.into()),
        }
    }

    fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "oauth token endpoint failed");
        Self::ServerError(
            Json(OAuthError {
                error: "server_error".to_owned(),
                error_description: "An unexpected error occurred. Please try again.".to_owned(),
            }),
            NO_STORE.into(),
            NO_CACHE.into(),
        )
    }
}

/// A stored hash nothing matches (only its HMAC work matters).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| SecretKey::derive("dummy-key-for-unknown-clients").hash("x"));

/// A well-formed bcrypt hash (salt and digest of a published test vector) at `cost`: verifying
/// against it costs what verifying an imported hash of that cost does, and never matches a
/// client secret in practice.
fn dummy_bcrypt(cost: u32) -> String {
    format!("$2b${cost:02}$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
}

/// Verifies `secret` against a bcrypt `hash` on the blocking pool.
async fn bcrypt_verify(secret: &str, hash: String) -> anyhow::Result<bool> {
    let secret = secret.to_owned();
    Ok(tokio::task::spawn_blocking(move || bcrypt::verify(secret, &hash).unwrap_or(false)).await?)
}

/// The OAuth token endpoint.
#[derive(Debug, Default, Clone, Copy)]
pub struct OAuthApi;

#[OpenApi(tag = "ApiTags::OAuth")]
impl OAuthApi {
    /// Issues a service token for an m2m client (client_credentials grant).
    #[oai(path = "/oauth/token", method = "post", operation_id = "oauthToken")]
    async fn token(
        &self,
        platform: Data<&Platform>,
        req: &Request,
        cx: AuditCtx,
        body: TokenBody,
    ) -> TokenResponse {
        let Ok(bytes) = body.body else {
            return TokenResponse::failure(&OAuthFailure {
                code: OAuthErrorCode::InvalidRequest,
                description: "The request body could not be read",
                basic: false,
            });
        };
        let authorization: Vec<&[u8]> = req
            .headers()
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        let raw = RawRequest {
            content_type: body.content_type.as_deref(),
            body: &bytes,
            query: req.uri().query(),
            authorization: &authorization,
        };
        let request = match oauth::parse(&raw) {
            Ok(r) => r,
            Err(f) => return TokenResponse::failure(&f),
        };
        match grant(&platform, &request).await {
            Ok(Ok(granted)) => TokenResponse::Ok(Json(granted), NO_STORE.into(), NO_CACHE.into()),
            Ok(Err(f)) => {
                audit_denied(&platform, &cx, &request.client_id).await;
                TokenResponse::failure(&f)
            }
            Err(e) => TokenResponse::server_error(e),
        }
    }
}

/// Authenticates the client and signs its token.
///
/// Every refusal costs one bcrypt verification (M2M-01): the real one for an imported bcrypt
/// hash, otherwise one against [`dummy_bcrypt`] at `BCRYPT_COST`, so an unknown id, a wrong
/// secret (fast or bcrypt hash), an unreadable hash and a revoked client all take the same
/// time. Only a successful fast-hash authentication skips bcrypt.
async fn grant(
    platform: &Platform,
    request: &TokenRequest,
) -> anyhow::Result<Result<TokenGranted, OAuthFailure>> {
    let jwt = &platform.settings.jwt;
    let key = SecretKey::derive(jwt.access_secret.expose());
    let mut paid_bcrypt = false;
    // Postgres text cannot hold NUL: such an id cannot exist (§2.7: `invalid_client`).
    let client = if request.client_id.contains('\0') {
        None
    } else {
        m2m::credentials(&platform.db, &request.client_id).await?
    };
    let verified = match &client {
        None => {
            let _ = key.matches(&DUMMY_HASH, &request.client_secret);
            Verified::No
        }
        Some(client) => {
            let stored = client.client_secret_hash.as_str();
            match secret::kind(stored) {
                HashKind::Fast if key.matches(stored, &request.client_secret) => Verified::Current,
                HashKind::Fast => match jwt.access_secret_previous.as_ref() {
                    Some(prev)
                        if SecretKey::derive(prev.expose())
                            .matches(stored, &request.client_secret) =>
                    {
                        Verified::Rehash
                    }
                    _ => Verified::No,
                },
                HashKind::Bcrypt => {
                    paid_bcrypt = true;
                    if bcrypt_verify(&request.client_secret, stored.to_owned()).await? {
                        Verified::Rehash
                    } else {
                        Verified::No
                    }
                }
                HashKind::Unknown => {
                    let _ = key.matches(&DUMMY_HASH, &request.client_secret);
                    Verified::No
                }
            }
        }
    };
    let client = match client {
        Some(c) if verified != Verified::No && c.usable => c,
        _ => {
            if !paid_bcrypt {
                let dummy = dummy_bcrypt(platform.settings.auth.bcrypt_cost);
                let _ = bcrypt_verify(&request.client_secret, dummy).await?;
            }
            return Ok(Err(OAuthFailure::invalid_client(request.basic)));
        }
    };
    let stored = client.client_secret_hash.as_str();
    if verified == Verified::Rehash {
        // a legacy bcrypt hash (or one under the previous JWT secret) is replaced once
        m2m::replace_hash(
            &platform.db,
            client.id,
            stored,
            &key.hash(&request.client_secret),
        )
        .await?;
    }
    if client.stale_use
        && let Err(e) = m2m::touch(&platform.db, client.id).await
    {
        tracing::warn!(error = %e, "could not record m2m client use");
    }
    let scopes = oauth::grant_scopes(request.scope.as_deref(), &client.scopes);
    let token = platform.signer.sign_service(
        &request.client_id,
        &client.name,
        &scopes,
        platform.signer.access_ttl(),
    )?;
    Ok(Ok(TokenGranted {
        access_token: token.token,
        token_type: "Bearer".to_owned(),
        expires_in: token.expires_in,
        expires_at: token.expires_at,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verified {
    Current,
    Rehash,
    No,
}

/// One `m2m.token_denied` audit row per refused client authentication (best effort: the
/// reply is the same whether or not it could be written).
async fn audit_denied(platform: &Platform, cx: &AuditCtx, client_id: &str) {
    let write = async {
        let event = cx
            .event("m2m.token_denied", None)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .resource("m2m_client", None)
            .details(
                serde_json::json!({"client_id": client_id.chars().filter(|c| !c.is_control()).take(100).collect::<String>()}),
            );
        let mut conn = platform.db.acquire().await?;
        auth_bus::enqueue_audit(&mut conn, &event).await?;
        anyhow::Ok(())
    };
    if let Err(e) = write.await {
        tracing::warn!(error = %e, "could not write m2m.token_denied audit event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_bcrypt_hash_is_well_formed_at_any_cost() {
        for cost in [4, 10] {
            let hash = dummy_bcrypt(cost);
            assert_eq!(secret::kind(&hash), HashKind::Bcrypt);
            assert_eq!(bcrypt::verify("anything", &hash).ok(), Some(false));
        }
    }
}
