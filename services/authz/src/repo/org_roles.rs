//! SQL over the roles usable inside an organisation: the system org roles
//! (`is_org_role`, no organisation) and the organisation's own custom roles.

use sqlx::PgConnection;
use uuid::Uuid;

use super::roles::{PermRow, RoleRow};

const ROLE_COLUMNS: &str = "r.id, r.code, r.name, r.description, r.type, r.level, r.is_org_role, \
                            r.organization_id, r.created_at, r.updated_at";

/// Rows of `roles r` usable in organisation `$1`.
const USABLE_IN_ORG: &str = "r.deleted_at is null
     and ((r.organization_id is null and r.is_org_role is true) or r.organization_id = $1)";

/// The roles usable in `org`, most privileged first.
pub async fn usable(conn: &mut PgConnection, org: Uuid) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ROLE_COLUMNS} from roles r where {USABLE_IN_ORG}
          order by r.level nulls last, r.organization_id nulls first, r.code"
    ))
    .bind(org)
    .fetch_all(conn)
    .await
}

/// The roles usable in `org` among `ids` or `codes`.
pub async fn usable_matching(
    conn: &mut PgConnection,
    org: Uuid,
    ids: &[Uuid],
    codes: &[String],
) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ROLE_COLUMNS} from roles r
          where {USABLE_IN_ORG} and (r.id = any($2) or r.code = any($3))
          order by r.level nulls last, r.code"
    ))
    .bind(org)
    .bind(ids)
    .bind(codes)
    .fetch_all(conn)
    .await
}

/// A live role by id (any organisation or none); `lock` locks it.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<RoleRow>, sqlx::Error> {
    let suffix = if lock { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select {ROLE_COLUMNS} from roles r where r.id = $1 and r.deleted_at is null{suffix}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whether a live system role has this code.
pub async fn system_code_exists(conn: &mut PgConnection, code: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from roles
                         where organization_id is null and deleted_at is null and lower(code) = lower($1))",
    )
    .bind(code)
    .fetch_one(conn)
    .await
}

/// Creates a custom role of `org` (a code taken in the organisation is the unique violation
/// `roles_code_org_unique`).
pub async fn insert_custom(
    conn: &mut PgConnection,
    org: Uuid,
    code: &str,
    name: &str,
    description: Option<&str>,
    level: i32,
) -> Result<RoleRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "with r as (
           insert into roles (code, name, description, type, level, is_org_role, organization_id)
           values ($2, $3, $4, 'custom', $5, true, $1) returning *)
         select {ROLE_COLUMNS} from r"
    ))
    .bind(org)
    .bind(code)
    .bind(name)
    .bind(description)
    .bind(level)
    .fetch_one(conn)
    .await
}

/// Writes a custom role's name, description and level.
pub async fn update_custom(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    description: Option<&str>,
    level: i32,
) -> Result<RoleRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "with r as (
           update roles set name = $2, description = $3, level = $4, updated_at = now()
            where id = $1 returning *)
         select {ROLE_COLUMNS} from r"
    ))
    .bind(id)
    .bind(name)
    .bind(description)
    .bind(level)
    .fetch_one(conn)
    .await
}

/// Replaces a role's permissions; returns whether the set changed.
pub async fn set_permissions(
    conn: &mut PgConnection,
    role: Uuid,
    permissions: &[Uuid],
) -> Result<bool, sqlx::Error> {
    let removed =
        sqlx::query("delete from role_permissions where role_id = $1 and permission_id <> all($2)")
            .bind(role)
            .bind(permissions)
            .execute(&mut *conn)
            .await?;
    let added = sqlx::query(
        "insert into role_permissions (role_id, permission_id)
         select $1, p from unnest($2::uuid[]) p
         on conflict (role_id, permission_id) do nothing",
    )
    .bind(role)
    .bind(permissions)
    .execute(conn)
    .await?;
    Ok(removed.rows_affected() + added.rows_affected() > 0)
}

/// Soft-deletes a role and drops its permission grants.
pub async fn soft_delete(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update roles set deleted_at = now(), updated_at = now() where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from role_permissions where role_id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Whether a live membership or a pending invitation holds the role.
pub async fn in_use(conn: &mut PgConnection, role: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from organization_member_roles omr
                          join organization_members m on m.id = omr.membership_id
                         where omr.role_id = $1 and m.deleted_at is null)
             or exists (select 1 from invitation_roles ir
                          join invitations i on i.id = ir.invitation_id
                         where ir.role_id = $1 and i.status = 'pending')",
    )
    .bind(role)
    .fetch_one(conn)
    .await
}

/// The users holding the role through a live membership.
pub async fn holders(conn: &mut PgConnection, role: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct m.user_id from organization_member_roles omr
           join organization_members m on m.id = omr.membership_id and m.deleted_at is null
          where omr.role_id = $1 order by m.user_id",
    )
    .bind(role)
    .fetch_all(conn)
    .await
}

/// Permissions by code (unknown codes are simply absent).
pub async fn permissions_by_codes(
    conn: &mut PgConnection,
    codes: &[String],
) -> Result<Vec<PermRow>, sqlx::Error> {
    sqlx::query_as(
        "select '00000000-0000-0000-0000-000000000000'::uuid as role_id, p.id, p.code, p.name,
                p.description, p.resource, p.action, p.category, p.org_assignable
           from permissions p where p.code = any($1) order by p.code",
    )
    .bind(codes)
    .fetch_all(conn)
    .await
}

/// The permissions an organisation may put into custom roles.
pub async fn assignable(conn: &mut PgConnection) -> Result<Vec<PermRow>, sqlx::Error> {
    sqlx::query_as(
        "select '00000000-0000-0000-0000-000000000000'::uuid as role_id, p.id, p.code, p.name,
                p.description, p.resource, p.action, p.category, p.org_assignable
           from permissions p where p.org_assignable order by p.code",
    )
    .fetch_all(conn)
    .await
}

/// The distinct permission codes the roles grant.
pub async fn permission_codes(
    conn: &mut PgConnection,
    roles: &[Uuid],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct p.code from role_permissions rp join permissions p on p.id = rp.permission_id
          where rp.role_id = any($1) order by p.code",
    )
    .bind(roles)
    .fetch_all(conn)
    .await
}
