//! SQL over `roles`, `role_permissions` and `user_base_roles`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A `roles` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleRow {
    /// Row id.
    pub id: Uuid,
    /// Code (unique among system roles, and per organisation).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// `system` or `custom`.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// Lower = more privileged.
    pub level: Option<i32>,
    /// Whether it is an organisation role.
    pub is_org_role: Option<bool>,
    /// Owning organisation of a custom role.
    pub organization_id: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A `permissions` row, tagged with the role it was read for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PermRow {
    /// The role holding it (nil when read on its own).
    pub role_id: Uuid,
    /// Row id.
    pub id: Uuid,
    /// `resource:action`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Resource.
    pub resource: String,
    /// Action.
    pub action: String,
    /// Category.
    pub category: Option<String>,
    /// May go into custom org roles.
    pub org_assignable: bool,
}

const ROLE_COLUMNS: &str = "r.id, r.code, r.name, r.description, r.type, r.level, r.is_org_role, \
                            r.organization_id, r.created_at, r.updated_at";

/// Live system roles (no organisation), most privileged first.
pub async fn system_roles(conn: &mut PgConnection) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ROLE_COLUMNS} from roles r
          where r.organization_id is null and r.deleted_at is null
          order by r.level nulls last, r.code"
    ))
    .fetch_all(conn)
    .await
}

/// The user's base roles, most privileged first.
pub async fn base_roles(conn: &mut PgConnection, user: Uuid) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ROLE_COLUMNS} from user_base_roles ubr
           join roles r on r.id = ubr.role_id and r.deleted_at is null
          where ubr.user_id = $1
          order by r.level nulls last, r.code"
    ))
    .bind(user)
    .fetch_all(conn)
    .await
}

/// Live system roles by code or by id (`None` for the other list).
pub async fn system_roles_matching(
    conn: &mut PgConnection,
    codes: Option<&[String]>,
    ids: Option<&[Uuid]>,
) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ROLE_COLUMNS} from roles r
          where r.organization_id is null and r.deleted_at is null
            and (r.code = any($1::text[]) or r.id = any($2::uuid[]))
          order by r.level nulls last, r.code"
    ))
    .bind(codes)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// The permissions of each of `roles`.
pub async fn permissions_of(
    conn: &mut PgConnection,
    roles: &[Uuid],
) -> Result<Vec<PermRow>, sqlx::Error> {
    sqlx::query_as(
        "select rp.role_id, p.id, p.code, p.name, p.description, p.resource, p.action, p.category,
                p.org_assignable
           from role_permissions rp join permissions p on p.id = rp.permission_id
          where rp.role_id = any($1)
          order by p.code",
    )
    .bind(roles)
    .fetch_all(conn)
    .await
}

/// Replaces the user's base roles with `roles`.
pub async fn replace_base_roles(
    conn: &mut PgConnection,
    user: Uuid,
    roles: &[Uuid],
    assigned_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from user_base_roles where user_id = $1 and role_id <> all($2)")
        .bind(user)
        .bind(roles)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into user_base_roles (user_id, role_id, assigned_by)
         select $1, r, $3 from unnest($2::uuid[]) r
         on conflict (user_id, role_id) do nothing",
    )
    .bind(user)
    .bind(roles)
    .bind(assigned_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every live session and refresh token of the user (logout-all); returns how many
/// refresh tokens and sessions were ended.
pub async fn revoke_user_sessions(
    conn: &mut PgConnection,
    user: Uuid,
    reason: &str,
) -> Result<(u64, u64), sqlx::Error> {
    let done = sqlx::query(
        "update refresh_tokens set revoked = true, revoked_at = now(), revoked_reason = $2,
                updated_at = now()
          where user_id = $1 and revoked is not true",
    )
    .bind(user)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    let sessions = sqlx::query(
        "update sessions set terminated = true, terminated_at = now(), updated_at = now()
          where user_id = $1 and terminated is not true",
    )
    .bind(user)
    .execute(conn)
    .await?;
    Ok((done.rows_affected(), sessions.rows_affected()))
}
