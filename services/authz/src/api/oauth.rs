//! `POST /oauth/token` (contract §2.7, RFC 6749 §4.4): the client_credentials grant, with
//! client authentication in the body (form or JSON) or HTTP Basic (§2.3.1). Replies use the
//! OAuth error shape `{"error","error_description"}`, never the app envelope, and carry
//! `Cache-Control: no-store` and `Pragma: no-cache`.

use std::time::Duration;

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
use super::oauth_grant::{audit_denied, grant};
use crate::domain::oauth::{self, OAuthErrorCode, OAuthFailure, RawRequest};
use crate::state::Shared;

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
    /// `invalid_client` after too many failed authentications of this client id from this
    /// address (M2M-07); `Retry-After` gives the longest wait in seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<OAuthError>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
        #[oai(header = "Retry-After")] String,
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

    fn throttled(retry_after: Duration) -> Self {
        Self::TooManyRequests(
            Json(OAuthError {
                error: OAuthErrorCode::InvalidClient.as_str().to_owned(),
                error_description: "Too many failed client authentications; try again later"
                    .to_owned(),
            }),
            NO_STORE.into(),
            NO_CACHE.into(),
            retry_after.as_secs().to_string(),
        )
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

/// The OAuth token endpoint.
#[derive(Debug, Default, Clone)]
pub struct OAuthApi {
    /// Per-application state (client cache, throttle).
    pub shared: Shared,
}

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
        let services = self.shared.get(&platform);
        if let Some(retry_after) = services.throttle.locked(&request.client_id, &cx.ip).await {
            return TokenResponse::throttled(retry_after);
        }
        match grant(&platform, &services, &request).await {
            Ok(Ok(granted)) => TokenResponse::Ok(Json(granted), NO_STORE.into(), NO_CACHE.into()),
            Ok(Err(f)) => {
                let failures = services.throttle.failed(&request.client_id, &cx.ip).await;
                audit_denied(&platform, &cx, &request.client_id, failures).await;
                TokenResponse::failure(&f)
            }
            Err(e) => TokenResponse::server_error(e),
        }
    }
}
