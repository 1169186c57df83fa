//! poem integration (feature `poem`): a bearer extractor for plain handlers and
//! poem-openapi security schemes, all verifying with the [`Verifier`] found in the request
//! data (`.data(verifier)` on the route).
//!
//! Only the `Authorization` header is read: query-string and cookie tokens are ignored
//! (JWT-12). Failures answer with the contract envelope
//! `{"error":{"code","message","details":null}}`:
//! - 401 + `WWW-Authenticate: Bearer error="invalid_token"` for a bad, expired or revoked
//!   token (`TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`);
//! - 401 + `WWW-Authenticate: Bearer` for a missing header (`UNAUTHORIZED`,
//!   "Missing authorization token"; RFC 6750 §3.1: no error code without credentials);
//! - 503 + `Retry-After: 1` `SERVICE_UNAVAILABLE` when revocation state is unavailable
//!   (fail closed);
//! - 500 `INTERNAL_ERROR` when no `Verifier` was added to the route's data.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{FromRequest, Request, RequestBody, Response};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::claims::{AccessClaims, ServiceClaims};
use crate::error::{InvalidReason, VerifyError};
use crate::verifier::{Principal, Verifier};

/// Name of the security scheme in generated OpenAPI documents.
pub const SECURITY_SCHEME_NAME: &str = "BearerAuth";

/// An authentication failure, rendered as the contract's error envelope.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token (or its absence) was refused.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The route has no [`Verifier`] in its data: a wiring bug of the service.
    #[error("no Verifier in request data")]
    NoVerifier,
}

impl poem::error::ResponseError for AuthError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Verify(e) => {
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED)
            }
            Self::NoVerifier => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        let (code, message) = match self {
            Self::Verify(e) => (e.code(), e.public_message()),
            Self::NoVerifier => (
                "INTERNAL_ERROR",
                "An unexpected error occurred. Please try again.",
            ),
        };
        let body =
            serde_json::json!({"error": {"code": code, "message": message, "details": null}});
        let mut resp = Response::builder()
            .status(self.status())
            .content_type("application/json")
            .body(body.to_string());
        let headers = resp.headers_mut();
        match self {
            Self::Verify(VerifyError::Missing) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::Verify(VerifyError::RevocationUnavailable(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::Verify(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            Self::NoVerifier => {}
        }
        resp
    }
}

/// The verifier from the request data and the bearer token from the one `Authorization`
/// header (several such headers are refused as ambiguous).
fn verifier_and_token(req: &Request) -> Result<(&Verifier, &str), AuthError> {
    let verifier = req.data::<Verifier>().ok_or(AuthError::NoVerifier)?;
    let mut values = req.headers().get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(VerifyError::Invalid(InvalidReason::Malformed).into());
    }
    let token = crate::authorization::bearer_token(first.map(HeaderValue::as_bytes))?;
    Ok((verifier, token))
}

async fn access_claims(req: &Request) -> Result<AccessClaims, AuthError> {
    let (verifier, token) = verifier_and_token(req)?;
    Ok(verifier.verify_access(token).await?)
}

async fn principal(req: &Request) -> Result<Principal, AuthError> {
    let (verifier, token) = verifier_and_token(req)?;
    Ok(verifier.verify_principal(token).await?)
}

fn service_claims(req: &Request) -> Result<ServiceClaims, AuthError> {
    let (verifier, token) = verifier_and_token(req)?;
    Ok(verifier.verify_service(token)?)
}

/// Plain poem extractor: the verified (and not revoked) access-token claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated(pub AccessClaims);

impl<'a> FromRequest<'a> for Authenticated {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(access_claims(req).await?))
    }
}

fn register_bearer(registry: &mut Registry) {
    registry.create_security_scheme(
        SECURITY_SCHEME_NAME,
        MetaSecurityScheme {
            ty: "http",
            description: Some("Access token (HS256 JWT) sent as `Authorization: Bearer <token>`."),
            name: None,
            key_in: None,
            scheme: Some("bearer"),
            bearer_format: Some("JWT"),
            flows: None,
            openid_connect_url: None,
        },
    );
}

macro_rules! security_scheme {
    ($(#[$doc:meta])* $name:ident($inner:ty), $extract:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(pub $inner);

        impl<'a> ApiExtractor<'a> for $name {
            const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
            type ParamType = ();
            type ParamRawType = ();

            fn register(registry: &mut Registry) {
                register_bearer(registry);
            }

            fn security_schemes() -> Vec<&'static str> {
                vec![SECURITY_SCHEME_NAME]
            }

            async fn from_request(
                req: &'a Request,
                _body: &mut RequestBody,
                _opts: ExtractParamOptions<()>,
            ) -> poem::Result<Self> {
                #[allow(clippy::redundant_closure_call)]
                let inner = ($extract)(req).await?;
                Ok(Self(inner))
            }
        }
    };
}

security_scheme!(
    /// poem-openapi security scheme (`http`/`bearer`/`JWT`): a user's verified access token.
    BearerAuth(AccessClaims),
    access_claims
);

security_scheme!(
    /// poem-openapi security scheme for routes open to users and m2m clients alike.
    BearerPrincipal(Principal),
    principal
);

security_scheme!(
    /// poem-openapi security scheme for routes reserved to m2m service tokens.
    BearerService(ServiceClaims),
    |req| std::future::ready(service_claims(req))
);
