//! Claims assembly: the roles and permissions a token carries for (user, app, org)
//! (contract §5.1 steps 8-9 with decisions §9.3 and §9.4), in one query.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::apps::AppScope;
use crate::error::ClaimsError;

/// The role every user holding it passes every membership gate (§9.3).
pub const SYSTEM_ADMIN_ROLE: &str = "system_admin";
/// The role a membership carries when it has no role rows of its own.
pub const ORG_MEMBER_ROLE: &str = "org_member";

/// The organization a token is scoped to (`org_id`, `org_slug`, `org_name` claims).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgContext {
    /// Organization id.
    pub id: Uuid,
    /// Organization slug.
    pub slug: String,
    /// Organization name.
    pub name: String,
}

/// What a token grants: role codes, permission codes and the optional org scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Role codes, most privileged (lowest level) first, without duplicates.
    pub roles: Vec<String>,
    /// Permission codes, sorted (byte order) and without duplicates.
    pub permissions: Vec<String>,
    /// The org scope, when the token is org-scoped.
    pub organization: Option<OrgContext>,
}

impl Grants {
    /// Whether the grants include `system_admin`.
    #[must_use]
    pub fn is_system_admin(&self) -> bool {
        self.roles.iter().any(|r| r == SYSTEM_ADMIN_ROLE)
    }
}

/// The answer of the claims-assembly columns ([`grants_columns!`]).
#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    pub(crate) org_found: bool,
    pub(crate) org_slug: Option<String>,
    pub(crate) org_name: Option<String>,
    pub(crate) org_status: Option<String>,
    pub(crate) member_status: Option<String>,
    pub(crate) system_admin: bool,
    pub(crate) roles: Vec<String>,
    pub(crate) permissions: Vec<String>,
}

/// The common table expressions of claims assembly, for `$1` = user and `$2` = org: base
/// roles, the org, the membership (active or not), its roles (or the `org_member` fallback
/// when an active membership has none), and everything granted. The query that uses them
/// defines `svc` (one row, column `services`: the permission services, or NULL for all)
/// before them and selects [`grants_columns!`] after them.
macro_rules! grants_ctes {
    () => {
        "
base as (
    select r.id, r.code, r.level
      from user_base_roles ubr
      join roles r on r.id = ubr.role_id and r.deleted_at is null
     where ubr.user_id = $1
),
org as (
    select o.id, o.slug, o.name, o.status
      from organizations o
     where o.id = $2 and o.deleted_at is null
),
membership as (
    select m.id, m.status
      from organization_members m
      join org on org.id = m.organization_id
     where m.user_id = $1 and m.deleted_at is null
),
member_roles as (
    select r.id, r.code, r.level
      from membership m
      join organization_member_roles omr on omr.membership_id = m.id
      join roles r on r.id = omr.role_id and r.deleted_at is null
                  and (r.organization_id is null or r.organization_id = $2)
     where m.status = 'active'
),
fallback as (
    select r.id, r.code, r.level
      from roles r
     where r.code = 'org_member' and r.organization_id is null and r.deleted_at is null
       and exists (select 1 from membership m where m.status = 'active')
       and not exists (select 1 from member_roles)
),
granted as (
    select id, code, level from base
    union select id, code, level from member_roles
    union select id, code, level from fallback
)
"
    };
}

/// The columns of a [`GrantRow`] over [`grants_ctes!`]; roles are ordered by level, then
/// code, and permissions are filtered to `svc.services` when it is not NULL.
macro_rules! grants_columns {
    () => {
        "
    exists (select 1 from org) as org_found,
    (select slug from org) as org_slug,
    (select name from org) as org_name,
    (select status from org) as org_status,
    (select status from membership order by (status = 'active') desc limit 1) as member_status,
    exists (select 1 from base where code = 'system_admin') as system_admin,
    coalesce((select array_agg(code order by level nulls last, code) from granted),
             '{}') as roles,
    coalesce((select array_agg(distinct p.code)
                from granted g
                join role_permissions rp on rp.role_id = g.id
                join permissions p on p.id = rp.permission_id
               cross join svc
               where svc.services is null or p.service = any(svc.services)),
             '{}') as permissions
"
    };
}

pub(crate) use {grants_columns, grants_ctes};

/// Claims assembly for `$1` = user, `$2` = org, `$3` = permission services (NULL for all).
const GRANTS_SQL: &str = concat!(
    "with svc as (select $3::text[] as services),",
    grants_ctes!(),
    "select",
    grants_columns!()
);

/// Assembles the roles and permissions for `user_id`, optionally scoped to an app (filters
/// permissions to its `service_codes` plus `core`) and an organization.
///
/// With an org: it must exist ([`ClaimsError::OrganizationNotFound`]) and be active
/// ([`ClaimsError::OrganizationSuspended`]); the membership must be active
/// ([`ClaimsError::NotOrganizationMember`]) unless the user holds the `system_admin` base role.
/// Roles are then the base roles plus the membership's roles (`org_member` when it has none).
pub async fn assemble(
    conn: &mut PgConnection,
    user_id: Uuid,
    app: Option<&AppScope>,
    org_id: Option<Uuid>,
) -> Result<Grants, ClaimsError> {
    let services = app.map(AppScope::permission_services);
    let row: GrantRow = sqlx::query_as(GRANTS_SQL)
        .bind(user_id)
        .bind(org_id)
        .bind(services)
        .fetch_one(conn)
        .await?;
    grants_from_row(org_id, row)
}

/// Applies the org gates to the query's answer and normalises the codes.
pub(crate) fn grants_from_row(org_id: Option<Uuid>, row: GrantRow) -> Result<Grants, ClaimsError> {
    let organization = match org_id {
        None => None,
        Some(id) => Some(org_gate(id, &row)?),
    };
    Ok(Grants {
        roles: dedup_keep_order(row.roles),
        permissions: sorted_unique(row.permissions),
        organization,
    })
}

/// Applies the org gates (§5.1 step 8, §9.3) to the query's answer.
fn org_gate(id: Uuid, row: &GrantRow) -> Result<OrgContext, ClaimsError> {
    if !row.org_found {
        return Err(ClaimsError::OrganizationNotFound);
    }
    if row.org_status.as_deref() != Some("active") {
        return Err(ClaimsError::OrganizationSuspended);
    }
    if row.member_status.as_deref() != Some("active") && !row.system_admin {
        return Err(ClaimsError::NotOrganizationMember);
    }
    Ok(OrgContext {
        id,
        slug: row.org_slug.clone().unwrap_or_default(),
        name: row.org_name.clone().unwrap_or_default(),
    })
}

/// Drops repeated codes (two role rows may share a code), keeping the first occurrence.
fn dedup_keep_order(codes: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(codes.len());
    for code in codes {
        if !out.contains(&code) {
            out.push(code);
        }
    }
    out
}

/// Sorts by bytes (independent of the database collation) and removes duplicates.
fn sorted_unique(mut codes: Vec<String>) -> Vec<String> {
    codes.sort_unstable();
    codes.dedup();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(found: bool, status: &str, member: Option<&str>, admin: bool) -> GrantRow {
        GrantRow {
            org_found: found,
            org_slug: found.then(|| "acme".to_owned()),
            org_name: found.then(|| "Acme".to_owned()),
            org_status: found.then(|| status.to_owned()),
            member_status: member.map(str::to_owned),
            system_admin: admin,
            roles: vec![],
            permissions: vec![],
        }
    }

    #[test]
    fn org_gates_in_contract_order() {
        let id = Uuid::nil();
        assert!(matches!(
            org_gate(id, &row(false, "active", Some("active"), true)),
            Err(ClaimsError::OrganizationNotFound)
        ));
        // a suspended org stops even a system_admin: only membership gates are bypassed
        assert!(matches!(
            org_gate(id, &row(true, "suspended", Some("active"), true)),
            Err(ClaimsError::OrganizationSuspended)
        ));
        assert!(matches!(
            org_gate(id, &row(true, "active", Some("suspended"), false)),
            Err(ClaimsError::NotOrganizationMember)
        ));
        assert!(matches!(
            org_gate(id, &row(true, "active", None, false)),
            Err(ClaimsError::NotOrganizationMember)
        ));
        let ok = org_gate(id, &row(true, "active", None, true));
        assert_eq!(ok.map(|o| o.slug).ok().as_deref(), Some("acme"));
    }

    #[test]
    fn codes_are_normalised() {
        let v = |s: &[&str]| s.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            dedup_keep_order(v(&["system_admin", "seller", "system_admin"])),
            v(&["system_admin", "seller"])
        );
        assert_eq!(
            sorted_unique(v(&["b:x", "a:y", "b:x", "B:z"])),
            v(&["B:z", "a:y", "b:x"])
        );
    }
}
