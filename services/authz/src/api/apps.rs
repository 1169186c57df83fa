//! Public app information: `GET /apps/{code}/registration-policy` (contract §2.8).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::repo::apps;

/// An app's registration rules, as hints for sign-up pages (the server still enforces them).
#[derive(Debug, Object)]
pub struct RegistrationPolicy {
    /// App code.
    pub code: String,
    /// App name.
    pub name: String,
    /// Email domains allowed to register (empty = any).
    pub allowed_email_domains: Vec<String>,
    /// Auth methods allowed (empty = any).
    pub allowed_auth_methods: Vec<String>,
    /// Whether new users join a default organisation.
    pub has_default_organization: bool,
    /// That organisation's name.
    #[oai(skip_serializing_if_is_none)]
    pub default_organization_name: Option<String>,
}

/// Replies of `GET /apps/{code}/registration-policy`.
#[derive(ApiResponse)]
pub enum RegistrationPolicyResponse {
    /// The policy.
    #[oai(status = 200)]
    Ok(Json<RegistrationPolicy>),
    /// No such app.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
}

/// Public app routes.
#[derive(Debug, Default, Clone, Copy)]
pub struct AppsApi;

#[OpenApi(tag = "ApiTags::Apps")]
impl AppsApi {
    /// An app's registration policy.
    #[oai(
        path = "/apps/:code/registration-policy",
        method = "get",
        operation_id = "getRegistrationPolicy"
    )]
    async fn registration_policy(
        &self,
        platform: Data<&Platform>,
        /// The app code.
        code: Path<String>,
    ) -> poem::Result<RegistrationPolicyResponse> {
        let row = apps::registration_policy(&platform.db, &code.0)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("app not found"))?;
        Ok(RegistrationPolicyResponse::Ok(Json(RegistrationPolicy {
            code: row.code,
            name: row.name,
            allowed_email_domains: row.allowed_email_domains,
            allowed_auth_methods: row.allowed_auth_methods,
            has_default_organization: row.has_default_organization,
            default_organization_name: row.default_organization_name,
        })))
    }
}
