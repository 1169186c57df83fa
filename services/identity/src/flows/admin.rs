//! User administration (§2.10): list, get, lookup, lockout reset, hard delete.

use std::collections::HashMap;

use auth_bus::{AuditAction, bump_token_version_in_tx};
use auth_edge::ApiError;
use auth_host::Platform;
use uuid::Uuid;

use super::common::{Client, audit};
use super::password::publish_bump;
use crate::domain::Email;
use crate::domain::listing::{self, BadParam};
use crate::error::{internal, user_not_found};
use crate::repo::admin_users::{self, ListFilter};
use crate::repo::orgs;
use crate::repo::users::{self, UserRow};

/// Most keys (`emails` plus `ids`) one lookup may ask for.
pub const MAX_LOOKUP_KEYS: usize = 200;
/// Longest `reason` of an admin action.
pub const MAX_REASON_LEN: usize = 500;

/// Query of `GET /admin/users`, as received.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Text search over email and names.
    pub search: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size.
    pub page_size: Option<i64>,
    /// Overrides `page_size`.
    pub limit: Option<i64>,
    /// Overrides `page`.
    pub offset: Option<i64>,
    /// Status filter.
    pub status: Option<String>,
    /// Organisation filter (UUID text).
    pub organization_id: Option<String>,
    /// App filter (UUID text).
    pub app_id: Option<String>,
    /// Sort column.
    pub sort_by: Option<String>,
    /// `ASC` or `DESC`.
    pub sort_order: Option<String>,
}

/// A user and its base roles `(code, name)`.
pub type UserWithRoles = (UserRow, Vec<(String, String)>);

fn bad_param(e: BadParam) -> ApiError {
    ApiError::invalid_input(e.field, e.message)
}

fn optional_id(field: &str, raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    crate::api::dto::optional_uuid(field, raw)
}

/// `GET /admin/users`: one page and the total.
pub async fn list(
    platform: &Platform,
    q: &ListQuery,
) -> Result<(Vec<UserWithRoles>, i64), ApiError> {
    let window = listing::window(q.page, q.page_size, q.limit, q.offset).map_err(bad_param)?;
    let (column, desc) =
        listing::sort(q.sort_by.as_deref(), q.sort_order.as_deref()).map_err(bad_param)?;
    let status = listing::status(q.status.as_deref()).map_err(bad_param)?;
    let pattern = listing::search_pattern(q.search.as_deref()).map_err(bad_param)?;
    let filter = ListFilter {
        pattern: pattern.as_deref(),
        status: status.as_deref(),
        organization_id: optional_id("organization_id", q.organization_id.as_deref())?,
        app_id: optional_id("app_id", q.app_id.as_deref())?,
        column,
        desc,
        window,
    };
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    let (rows, total) = admin_users::list(&mut conn, &filter)
        .await
        .map_err(internal)?;
    let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
    let mut roles: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
    for (user, code, name) in admin_users::base_roles(&mut conn, &ids)
        .await
        .map_err(internal)?
    {
        roles.entry(user).or_default().push((code, name));
    }
    let users = rows
        .into_iter()
        .map(|u| {
            let r = roles.remove(&u.id).unwrap_or_default();
            (u, r)
        })
        .collect();
    Ok((users, total))
}

/// `GET /admin/users/{userId}`: the raw record, soft-deleted users included.
pub async fn get(platform: &Platform, id: Uuid) -> Result<UserRow, ApiError> {
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    users::find_by_id(&mut conn, id)
        .await
        .map_err(internal)?
        .ok_or_else(user_not_found)
}

/// `POST /admin/users/lookup`: live users by id or email; at most 200 keys; malformed ids
/// are 400, strings that are no address simply match nothing.
pub async fn lookup(
    platform: &Platform,
    ids: &[String],
    emails: &[String],
) -> Result<Vec<UserRow>, ApiError> {
    if ids.len() + emails.len() > MAX_LOOKUP_KEYS {
        return Err(ApiError::invalid_input(
            "ids",
            format!("at most {MAX_LOOKUP_KEYS} emails and ids together"),
        ));
    }
    let ids = ids
        .iter()
        .map(|raw| super::gate::parse_id("ids", raw))
        .collect::<Result<Vec<_>, _>>()?;
    let emails: Vec<String> = emails
        .iter()
        .filter_map(|e| Email::parse(e))
        .map(|e| e.as_str().to_owned())
        .collect();
    if ids.is_empty() && emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    admin_users::lookup(&mut conn, &ids, &emails)
        .await
        .map_err(internal)
}

/// `POST /admin/users/{userId}/reset-lockout`.
pub async fn reset_lockout(
    platform: &Platform,
    admin: Uuid,
    id: Uuid,
    client: &Client,
) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    if !admin_users::reset_lockout(&mut tx, id)
        .await
        .map_err(internal)?
    {
        return Err(user_not_found());
    }
    let event = client
        .event(AuditAction::new("user.lockout_reset").map_err(internal)?)
        .actor(admin)
        .resource("user", Some(id))
        .subject_user(id);
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)
}

/// A required free-text reason: trimmed, 1-500 characters.
pub fn reason(raw: &str) -> Result<String, ApiError> {
    let r = raw.trim();
    if r.is_empty() {
        return Err(ApiError::invalid_input("reason", "reason is required"));
    }
    if r.chars().count() > MAX_REASON_LEN || r.contains('\0') {
        return Err(ApiError::invalid_input(
            "reason",
            format!("reason must be at most {MAX_REASON_LEN} characters of text"),
        ));
    }
    Ok(r.to_owned())
}

/// Deletes a user for good, after the checks both deletes share: not an owner of any
/// organisation (409 `CONFLICT`). The token version is bumped first, in the same
/// transaction, and published after commit, so every replica drops the user's tokens.
pub async fn delete_user(
    platform: &Platform,
    user: &UserRow,
    event: auth_bus::AuditEvent,
) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let owned = orgs::owned_by(&mut tx, user.id).await.map_err(internal)?;
    if !owned.is_empty() {
        return Err(
            ApiError::conflict("User owns organizations; transfer or delete them first")
                .with_details(serde_json::json!({ "organization_ids": owned })),
        );
    }
    let bump = bump_token_version_in_tx(&mut tx, user.id)
        .await
        .map_err(internal)?;
    audit(&mut tx, &event).await?;
    if !admin_users::hard_delete(&mut tx, user.id)
        .await
        .map_err(internal)?
    {
        return Err(user_not_found());
    }
    tx.commit().await.map_err(internal)?;
    publish_bump(platform, bump).await;
    Ok(())
}

/// `DELETE /admin/users/{userId}/hard` (system_admin): reason required, never oneself.
pub async fn hard_delete(
    platform: &Platform,
    admin: Uuid,
    id: Uuid,
    raw_reason: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let reason = reason(raw_reason)?;
    if admin == id {
        return Err(ApiError::invalid_input(
            "user_id",
            "Administrators cannot hard-delete their own account",
        ));
    }
    let user = get(platform, id).await?;
    let event = client
        .event(AuditAction::USER_HARD_DELETED)
        .actor(admin)
        .resource("user", Some(id))
        .details(serde_json::json!({ "reason": reason, "email": user.email }))
        .subject_user(id);
    delete_user(platform, &user, event).await
}
