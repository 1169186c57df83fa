//! Organisations as registration and login touch them: create, join, invitations.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An `organizations` row (the fields of `OrganizationResponse`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrgRow {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Description.
    pub description: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Status.
    pub status: String,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Owner.
    pub owner_id: Uuid,
    /// Plan.
    pub plan: Option<String>,
    /// SSO enabled.
    pub sso_enabled: Option<bool>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

const ORG_COLUMNS: &str = "id, name, slug, description, logo_url, website, status, contact_email,
    contact_phone, address, city, state, country, postal_code, owner_id, plan, sso_enabled,
    created_at, updated_at";

/// A live organisation by id.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as::<_, OrgRow>(&format!(
        "select {ORG_COLUMNS} from organizations where id = $1 and deleted_at is null"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Creates an active organisation owned by `owner` (slug conflicts surface as the unique
/// violation `organizations_slug_unique`).
pub async fn create(
    conn: &mut PgConnection,
    name: &str,
    slug: &str,
    owner: Uuid,
) -> Result<OrgRow, sqlx::Error> {
    sqlx::query_as::<_, OrgRow>(&format!(
        "insert into organizations (name, slug, owner_id, status)
         values ($1, $2, $3, 'active') returning {ORG_COLUMNS}"
    ))
    .bind(name)
    .bind(slug)
    .bind(owner)
    .fetch_one(conn)
    .await
}

/// Makes `user` an active member of `org` holding the roles with `role_ids` plus the
/// org-usable roles with `role_codes` (system org roles, or this org's custom ones). An
/// existing membership is re-activated and gains the roles.
pub async fn add_member(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    role_codes: &[String],
    role_ids: &[Uuid],
    invited_by: Option<Uuid>,
) -> Result<Uuid, sqlx::Error> {
    let membership: Uuid = sqlx::query_scalar(
        "insert into organization_members (user_id, organization_id, status, invited_by)
         values ($1, $2, 'active', $3)
         on conflict (user_id, organization_id) where deleted_at is null
            do update set status = 'active', updated_at = now()
         returning id",
    )
    .bind(user)
    .bind(org)
    .bind(invited_by)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "insert into organization_member_roles (membership_id, role_id, assigned_by)
         select $1, r.id, $5 from roles r
          where r.deleted_at is null
            and (r.organization_id is null or r.organization_id = $2)
            and (r.code = any($3) or r.id = any($4))
         on conflict (membership_id, role_id) do nothing",
    )
    .bind(membership)
    .bind(org)
    .bind(role_codes)
    .bind(role_ids)
    .bind(invited_by)
    .execute(conn)
    .await?;
    Ok(membership)
}

/// Whether `code` names a role usable in `org` (an org-scoped system role or this org's
/// custom role).
pub async fn is_org_role(
    conn: &mut PgConnection,
    org: Uuid,
    code: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from roles where code = $2 and deleted_at is null
                          and ((organization_id is null and is_org_role is true)
                               or organization_id = $1))",
    )
    .bind(org)
    .bind(code)
    .fetch_one(conn)
    .await
}

/// An invitation as registration reads it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvitationRow {
    /// Id.
    pub id: Uuid,
    /// Inviting organisation.
    pub organization_id: Uuid,
    /// Invitee address.
    pub email: String,
    /// `pending`, `accepted`, ...
    pub status: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Inviter.
    pub invited_by: Option<Uuid>,
}

/// The invitation with this 6-character `code` or secret `token`, locked for update.
pub async fn lock_invitation(
    conn: &mut PgConnection,
    code: Option<&str>,
    token: Option<&str>,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as::<_, InvitationRow>(
        "select id, organization_id, email, status, expires_at, invited_by from invitations
          where (code = upper($1) and $1 is not null) or (token = $2 and $2 is not null)
          limit 1 for update",
    )
    .bind(code)
    .bind(token)
    .fetch_optional(conn)
    .await
}

/// The role ids an invitation grants.
pub async fn invitation_role_ids(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select role_id from invitation_roles where invitation_id = $1")
        .bind(id)
        .fetch_all(conn)
        .await
}

/// Marks a pending invitation accepted by `user`.
pub async fn accept_invitation(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update invitations set status = 'accepted', accepted_at = now(), accepted_by = $2,
                updated_at = now()
          where id = $1 and status = 'pending'",
    )
    .bind(id)
    .bind(user)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Ids of live organisations `user` owns.
pub async fn owned_by(conn: &mut PgConnection, user: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select id from organizations where owner_id = $1")
        .bind(user)
        .fetch_all(conn)
        .await
}
