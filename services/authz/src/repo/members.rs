//! SQL over `organization_members` and `organization_member_roles` (live memberships:
//! `deleted_at is null`; removal sets `status = 'removed'` and `deleted_at`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::orgs::{ORG_COLUMNS, OrgRow};
use super::roles::RoleRow;
use crate::domain::orgs::Page;

/// A membership with the member's user fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    /// Membership id.
    pub id: Uuid,
    /// The member.
    pub user_id: Uuid,
    /// The organisation.
    pub organization_id: Uuid,
    /// `pending`, `active`, `suspended` or `removed`.
    pub status: String,
    /// When the membership started.
    pub joined_at: DateTime<Utc>,
    /// Email.
    pub email: String,
    /// Email verified.
    pub email_verified: Option<bool>,
    /// Phone.
    pub phone: Option<String>,
    /// Phone verified.
    pub phone_verified: Option<bool>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// The user's account status.
    pub user_status: String,
    /// `local`, `google`, ...
    pub auth_provider: String,
    /// TOTP enabled.
    pub two_factor_enabled: Option<bool>,
    /// Last login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// User creation time.
    pub user_created_at: DateTime<Utc>,
    /// User last change.
    pub user_updated_at: DateTime<Utc>,
}

const MEMBER_COLUMNS: &str = "m.id, m.user_id, m.organization_id, m.status, m.joined_at, \
     u.email, u.email_verified, u.phone, u.phone_verified, u.first_name, u.last_name, \
     u.display_name, u.avatar_url, u.status as user_status, u.auth_provider, \
     u.two_factor_enabled, u.last_login_at, u.created_at as user_created_at, \
     u.updated_at as user_updated_at";

/// A role held through a membership.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRoleRow {
    /// The membership.
    pub membership_id: Uuid,
    /// The role.
    #[sqlx(flatten)]
    pub role: RoleRow,
}

/// A membership of a user with its (live) organisation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    /// Membership id.
    pub membership_id: Uuid,
    /// Membership status.
    pub member_status: String,
    /// When it started.
    pub joined_at: DateTime<Utc>,
    /// The organisation.
    #[sqlx(flatten)]
    pub org: OrgRow,
}

/// One page of an organisation's memberships: live ones (of `status`, when given), or the
/// removed ones for `status = removed`.
pub async fn list(
    conn: &mut PgConnection,
    org: Uuid,
    status: Option<&str>,
    page: Page,
) -> Result<(Vec<MemberRow>, i64), sqlx::Error> {
    let filter = "m.organization_id = $1
          and (($2::text is distinct from 'removed' and m.deleted_at is null
                and ($2::text is null or m.status = $2))
               or ($2::text = 'removed' and m.status = 'removed'))";
    let total: i64 = sqlx::query_scalar(&format!(
        "select count(*) from organization_members m where {filter}"
    ))
    .bind(org)
    .bind(status)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as(&format!(
        "select {MEMBER_COLUMNS} from organization_members m join users u on u.id = m.user_id
          where {filter}
          order by m.joined_at, m.id
          limit $3 offset $4"
    ))
    .bind(org)
    .bind(status)
    .bind(page.page_size)
    .bind(page.offset())
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// The live membership of `user` in `org`; `lock` locks it for the transaction.
pub async fn get(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    lock: bool,
) -> Result<Option<MemberRow>, sqlx::Error> {
    let suffix = if lock { " for update of m" } else { "" };
    sqlx::query_as(&format!(
        "select {MEMBER_COLUMNS} from organization_members m join users u on u.id = m.user_id
          where m.organization_id = $1 and m.user_id = $2 and m.deleted_at is null{suffix}"
    ))
    .bind(org)
    .bind(user)
    .fetch_optional(conn)
    .await
}

/// Creates a live membership (`status` given); a live one already there is the unique
/// violation `org_member_unique`. Returns the membership id.
pub async fn insert(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    status: &str,
    invited_by: Option<Uuid>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into organization_members (user_id, organization_id, status, invited_by)
         values ($1, $2, $3, $4) returning id",
    )
    .bind(user)
    .bind(org)
    .bind(status)
    .bind(invited_by)
    .fetch_one(conn)
    .await
}

/// Adds roles to a membership (ones it holds are kept).
pub async fn add_roles(
    conn: &mut PgConnection,
    membership: Uuid,
    roles: &[Uuid],
    assigned_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into organization_member_roles (membership_id, role_id, assigned_by)
         select $1, r, $3 from unnest($2::uuid[]) r
         on conflict (membership_id, role_id) do nothing",
    )
    .bind(membership)
    .bind(roles)
    .bind(assigned_by)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Replaces a membership's roles with `roles`.
pub async fn replace_roles(
    conn: &mut PgConnection,
    membership: Uuid,
    roles: &[Uuid],
    assigned_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "delete from organization_member_roles where membership_id = $1 and role_id <> all($2)",
    )
    .bind(membership)
    .bind(roles)
    .execute(&mut *conn)
    .await?;
    add_roles(conn, membership, roles, assigned_by).await
}

/// Sets a live membership's status; `removed` also ends it (`deleted_at`).
pub async fn set_status(
    conn: &mut PgConnection,
    membership: Uuid,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update organization_members
            set status = $2, updated_at = now(),
                deleted_at = case when $2 = 'removed' then now() else deleted_at end
          where id = $1 and deleted_at is null",
    )
    .bind(membership)
    .bind(status)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The live roles of each of `memberships`, most privileged first.
pub async fn roles_of(
    conn: &mut PgConnection,
    memberships: &[Uuid],
) -> Result<Vec<MemberRoleRow>, sqlx::Error> {
    sqlx::query_as(
        "select omr.membership_id, r.id, r.code, r.name, r.description, r.type, r.level,
                r.is_org_role, r.organization_id, r.created_at, r.updated_at
           from organization_member_roles omr
           join roles r on r.id = omr.role_id and r.deleted_at is null
          where omr.membership_id = any($1)
          order by r.level nulls last, r.code",
    )
    .bind(memberships)
    .fetch_all(conn)
    .await
}

/// The users holding a live membership of `org`.
pub async fn live_user_ids(conn: &mut PgConnection, org: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select user_id from organization_members
          where organization_id = $1 and deleted_at is null order by user_id",
    )
    .bind(org)
    .fetch_all(conn)
    .await
}

/// A user's live memberships of live organisations, oldest first.
pub async fn of_user(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<Vec<MembershipRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select m.id as membership_id, m.status as member_status, m.joined_at, {ORG_COLUMNS}
           from organization_members m
           join organizations o on o.id = m.organization_id and o.deleted_at is null
          where m.user_id = $1 and m.deleted_at is null
          order by m.joined_at, m.id"
    ))
    .bind(user)
    .fetch_all(conn)
    .await
}
