//! `GET /me/orgs` (contract §2.8, §9.19): the caller's memberships, in the documented
//! shape and the flat one the SDK reads.

use auth_edge::ApiError;
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::payload::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiTags;
use super::common::{caller_id, internal, ts};
use super::org_dto::{Membership, MyOrg, MyOrgs, Organization};
use super::org_replies::MyOrgsReply;
use super::role_dto::without_permissions;
use crate::repo::members;

/// A user's live memberships of live organisations with their roles (most privileged
/// first; the flat `role` is the first of them).
pub async fn memberships_of(conn: &mut PgConnection, user: Uuid) -> Result<MyOrgs, ApiError> {
    let rows = members::of_user(conn, user).await.map_err(internal)?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.membership_id).collect();
    let roles = members::roles_of(conn, &ids).await.map_err(internal)?;
    let mut memberships = Vec::with_capacity(rows.len());
    let mut organizations = Vec::with_capacity(rows.len());
    for m in rows {
        let mine: Vec<_> = roles
            .iter()
            .filter(|r| r.membership_id == m.membership_id)
            .map(|r| without_permissions(r.role.clone()))
            .collect();
        organizations.push(MyOrg {
            id: m.org.id.to_string(),
            slug: m.org.slug.clone(),
            name: m.org.name.clone(),
            role: mine.first().map(|r| r.code.clone()),
            status: m.member_status.clone(),
            joined_at: ts(m.joined_at),
        });
        memberships.push(Membership {
            organization: Organization::from(&m.org),
            status: m.member_status,
            joined_at: ts(m.joined_at),
            roles: mine,
        });
    }
    Ok(MyOrgs {
        memberships,
        organizations,
    })
}

/// The caller's organisations.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeOrgsApi;

#[OpenApi(tag = "ApiTags::Me")]
impl MeOrgsApi {
    /// The caller's memberships.
    #[oai(path = "/me/orgs", method = "get", operation_id = "listMyOrgs")]
    async fn my_orgs(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<MyOrgsReply> {
        let me = caller_id(&auth.0)?;
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        Ok(MyOrgsReply::Ok(Json(memberships_of(&mut conn, me).await?)))
    }
}
