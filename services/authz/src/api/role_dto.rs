//! Role and permission DTOs (contract §2.9 shapes RoleResponse and PermissionResponse).

use poem_openapi::Object;
use sqlx::PgConnection;

use super::common::ts;
use crate::repo::roles::{self, PermRow, RoleRow};

/// A permission.
#[derive(Debug, Clone, Object)]
pub struct PermissionResponse {
    /// Row id.
    pub id: String,
    /// `resource:action`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// Resource.
    pub resource: String,
    /// Action.
    pub action: String,
    /// Category.
    pub category: String,
    /// May go into custom org roles.
    pub org_assignable: bool,
}

impl From<PermRow> for PermissionResponse {
    fn from(p: PermRow) -> Self {
        Self {
            id: p.id.to_string(),
            code: p.code,
            name: p.name,
            description: p.description,
            resource: p.resource,
            action: p.action,
            category: p.category.unwrap_or_default(),
            org_assignable: p.org_assignable,
        }
    }
}

/// A role.
#[derive(Debug, Clone, Object)]
pub struct RoleResponse {
    /// Row id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// `system` or `custom`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Lower = more privileged.
    pub level: i32,
    /// Whether it is an organisation role.
    pub is_org_role: bool,
    /// Owning organisation of a custom role.
    #[oai(skip_serializing_if_is_none)]
    pub organization_id: Option<String>,
    /// Its permissions.
    #[oai(skip_serializing_if_is_none)]
    pub permissions: Option<Vec<PermissionResponse>>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// `{roles: [RoleResponse]}`.
#[derive(Debug, Object)]
pub struct RoleList {
    /// The roles.
    pub roles: Vec<RoleResponse>,
}

fn role(r: RoleRow, permissions: Option<Vec<PermissionResponse>>) -> RoleResponse {
    RoleResponse {
        id: r.id.to_string(),
        code: r.code,
        name: r.name,
        description: r.description,
        kind: r.kind,
        level: r.level.unwrap_or(100),
        is_org_role: r.is_org_role.unwrap_or(false),
        organization_id: r.organization_id.map(|u| u.to_string()),
        permissions,
        created_at: ts(r.created_at),
        updated_at: ts(r.updated_at),
    }
}

/// A role without its permissions (member listings).
pub fn without_permissions(r: RoleRow) -> RoleResponse {
    role(r, None)
}

/// The roles with their permissions (one extra query for all of them).
pub async fn with_permissions(
    conn: &mut PgConnection,
    rows: Vec<RoleRow>,
) -> Result<Vec<RoleResponse>, sqlx::Error> {
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let perms = roles::permissions_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = perms
                .iter()
                .filter(|p| p.role_id == r.id)
                .cloned()
                .map(Into::into)
                .collect();
            role(r, Some(mine))
        })
        .collect())
}
