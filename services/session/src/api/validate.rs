//! `POST /auth/validate`: token introspection for services without the shared secret
//! (contract §2.1, decision §9.14).

use jwt_verify::Verifier;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use auth_edge::ErrorEnvelope;

/// `POST /auth/validate` request. Any JSON object parses (contract §2.1: 400 only for
/// unparsable JSON); a missing, null or non-string `token` is simply not valid.
#[derive(Debug, Object)]
pub struct ValidateRequest {
    /// The access token to check (a string; any other value answers `{"valid": false}`).
    pub token: Option<serde_json::Value>,
}

/// `POST /auth/validate` reply: `{"valid": false}` alone for any token that is not a
/// valid, unrevoked user access token.
#[derive(Debug, Default, Object)]
pub struct ValidateResponseBody {
    /// Whether the token is valid.
    pub valid: bool,
    /// The user's id.
    #[oai(skip_serializing_if_is_none)]
    pub user_id: Option<String>,
    /// The user's email.
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    /// The organisation the token is scoped to.
    #[oai(skip_serializing_if_is_none)]
    pub organization_id: Option<String>,
    /// Role codes.
    #[oai(skip_serializing_if_is_none)]
    pub roles: Option<Vec<String>>,
    /// Permission codes.
    #[oai(skip_serializing_if_is_none)]
    pub permissions: Option<Vec<String>>,
    /// When the token expires (RFC 3339, seconds, UTC).
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<String>,
}

/// Replies of `POST /auth/validate`.
#[derive(ApiResponse)]
pub enum ValidateResponse {
    /// Always 200 for a parsable request.
    #[oai(status = 200)]
    Ok(Json<ValidateResponseBody>),
    /// Unparsable JSON.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
}

/// Token validation.
#[derive(Debug, Default, Clone, Copy)]
pub struct ValidateApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl ValidateApi {
    /// Whether an access token is valid and not revoked, with its main claims.
    #[oai(
        path = "/auth/validate",
        method = "post",
        operation_id = "validateToken"
    )]
    async fn validate(
        &self,
        verifier: Data<&Verifier>,
        body: Json<ValidateRequest>,
    ) -> ValidateResponse {
        let Some(token) = body.0.token.as_ref().and_then(serde_json::Value::as_str) else {
            return ValidateResponse::Ok(Json(ValidateResponseBody::default()));
        };
        let reply = match verifier.verify_access(token).await {
            Ok(claims) => ValidateResponseBody {
                valid: true,
                expires_at: rfc3339(claims.exp),
                user_id: Some(claims.uid.clone()),
                email: Some(claims.email.clone()),
                organization_id: (!claims.org_id.is_empty()).then(|| claims.org_id.clone()),
                roles: Some(claims.roles.clone()),
                permissions: Some(claims.permissions.clone()),
            },
            Err(_) => ValidateResponseBody::default(),
        };
        ValidateResponse::Ok(Json(reply))
    }
}

fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}
