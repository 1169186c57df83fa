//! `GET /auth/me`: the caller, answered from the verified token alone (contract §2.1, §9.20).

use jwt_verify::AccessClaims;
use jwt_verify::poem::BearerAuth;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use auth_edge::ErrorEnvelope;

/// The caller's identity as carried by the access token.
#[derive(Debug, Clone, Object)]
pub struct MeUser {
    /// The user's id.
    pub user_id: String,
    /// The user's email address.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Role codes.
    pub roles: Vec<String>,
    /// Permission codes (`resource:action`).
    pub permissions: Vec<String>,
    /// The organisation the token is scoped to.
    #[oai(skip_serializing_if_is_none)]
    pub organization_id: Option<String>,
    /// Its name.
    #[oai(skip_serializing_if_is_none)]
    pub organization_name: Option<String>,
    /// Its slug.
    #[oai(skip_serializing_if_is_none)]
    pub organization_slug: Option<String>,
}

/// `GET /auth/me` reply: the flat fields plus the same fields under `user` (decision §9.20).
#[derive(Debug, Clone, Object)]
pub struct MeResponseBody {
    /// The flat fields.
    #[oai(flatten)]
    pub flat: MeUser,
    /// The same fields, for SDK helpers that read `user`.
    pub user: MeUser,
}

/// Replies of `GET /auth/me`.
#[allow(clippy::large_enum_variant)] // built once per request, never stored
#[derive(ApiResponse)]
pub enum MeResponse {
    /// The caller.
    #[oai(status = 200)]
    Ok(Json<MeResponseBody>),
    /// Missing, invalid, expired or revoked token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
}

/// Self-service routes about the caller.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl MeApi {
    /// The caller, from the verified access token (no database read).
    #[oai(path = "/auth/me", method = "get", operation_id = "getMe")]
    async fn me(&self, auth: BearerAuth) -> MeResponse {
        let user = me_user(&auth.0);
        MeResponse::Ok(Json(MeResponseBody {
            flat: user.clone(),
            user,
        }))
    }
}

fn me_user(claims: &AccessClaims) -> MeUser {
    MeUser {
        user_id: claims.uid.clone(),
        email: claims.email.clone(),
        first_name: claims.first_name.clone(),
        last_name: claims.last_name.clone(),
        roles: claims.roles.clone(),
        permissions: claims.permissions.clone(),
        organization_id: non_empty(&claims.org_id),
        organization_name: non_empty(&claims.org_name),
        organization_slug: non_empty(&claims.org_slug),
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}
