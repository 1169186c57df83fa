//! Organisation operations shared by the platform-admin surface (`/admin/organizations*`,
//! §2.10) and the org self-service surface (`/orgs/{orgId}*`, §2.9). Each runs in one
//! transaction with its audit row; token-version bumps are published after the commit.

use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use poem_openapi::types::MaybeUndefined;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::common::{AuditCtx, internal, parse_id};
use super::grants::user_not_found;
use super::org_dto::{
    AddMember, CreateOrganization, MemberPage, OrgMember, OrgPagination, Organization,
    UpdateOrganization,
};
use super::org_gate::{OrgCaller, bump_all, deny_escalation, load_org, not_grantable, publish_all};
use super::role_dto::without_permissions;
use crate::domain::FieldError;
use crate::domain::orgs::{self as rules, MEMBER_STATUSES, Page};
use crate::repo::members::{self, MemberRow};
use crate::repo::orgs::{self, OrgFields};
use crate::repo::roles::RoleRow;
use crate::repo::{org_roles, users};

/// A refused field as 400 `INVALID_INPUT`.
pub fn field((f, m): FieldError) -> ApiError {
    if m.starts_with(f) {
        ApiError::invalid_input(f, m)
    } else {
        ApiError::invalid_input(f, format!("{f} {m}"))
    }
}

/// 404 `NOT_FOUND` for a user that is not a live member of the organisation.
pub fn member_not_found() -> ApiError {
    ApiError::not_found("member not found")
}

fn text(field: &'static str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    rules::check_len(field, &v, max).map_err(self::field)?;
    Ok(Some(v))
}

fn email(v: Option<String>) -> Result<Option<String>, ApiError> {
    match text("contact_email", v, 255)? {
        None => Ok(None),
        Some(e) => rules::normalize_email("contact_email", &e)
            .map(Some)
            .map_err(field),
    }
}

/// The fields of a new organisation.
pub fn new_fields(b: CreateOrganization) -> Result<OrgFields, ApiError> {
    let (name, slug) = rules::check_org_name(&b.name).map_err(field)?;
    Ok(OrgFields {
        name,
        slug,
        description: text("description", b.description, 10_000)?,
        logo_url: text("logo_url", b.logo_url, 2_000)?,
        website: text("website", b.website, 500)?,
        contact_email: email(b.contact_email)?,
        contact_phone: text("contact_phone", b.contact_phone, 50)?,
        address: text("address", b.address, 1_000)?,
        city: text("city", b.city, 100)?,
        state: text("state", b.state, 100)?,
        country: text("country", b.country, 100)?,
        postal_code: text("postal_code", b.postal_code, 20)?,
    })
}

fn patch(
    to: &mut Option<String>,
    v: MaybeUndefined<String>,
    f: impl FnOnce(Option<String>) -> Result<Option<String>, ApiError>,
) -> Result<(), ApiError> {
    match v {
        MaybeUndefined::Undefined => Ok(()),
        MaybeUndefined::Null => {
            *to = None;
            Ok(())
        }
        MaybeUndefined::Value(s) => {
            *to = f(Some(s))?;
            Ok(())
        }
    }
}

/// Applies an update body (`null`/`""` clear optional fields; a new name re-slugs).
pub fn apply_update(f: &mut OrgFields, b: UpdateOrganization) -> Result<(), ApiError> {
    match b.name {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => return Err(ApiError::invalid_input("name", "name cannot be null")),
        MaybeUndefined::Value(n) => {
            (f.name, f.slug) = rules::check_org_name(&n).map_err(field)?;
        }
    }
    patch(&mut f.description, b.description, |v| {
        text("description", v, 10_000)
    })?;
    patch(&mut f.logo_url, b.logo_url, |v| text("logo_url", v, 2_000))?;
    patch(&mut f.website, b.website, |v| text("website", v, 500))?;
    patch(&mut f.contact_email, b.contact_email, email)?;
    patch(&mut f.contact_phone, b.contact_phone, |v| {
        text("contact_phone", v, 50)
    })?;
    patch(&mut f.address, b.address, |v| text("address", v, 1_000))?;
    patch(&mut f.city, b.city, |v| text("city", v, 100))?;
    patch(&mut f.state, b.state, |v| text("state", v, 100))?;
    patch(&mut f.country, b.country, |v| text("country", v, 100))?;
    patch(&mut f.postal_code, b.postal_code, |v| {
        text("postal_code", v, 20)
    })?;
    Ok(())
}

/// 409 `ORGANIZATION_ALREADY_EXISTS`.
pub fn slug_taken() -> ApiError {
    ApiError::new(
        ErrorCode::OrganizationAlreadyExists,
        "An organization with this name already exists",
    )
}

/// Maps a write error: the slug index to 409, anything else to 500.
pub fn slug_conflict(e: sqlx::Error) -> ApiError {
    match auth_db::unique_violation(&e) {
        Some(_) => slug_taken(),
        None => internal(e),
    }
}

/// `PUT /orgs/{orgId}` and `PUT /admin/organizations/{orgId}`.
pub async fn update_org(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    body: UpdateOrganization,
) -> Result<Organization, ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let current = load_org(&mut tx, caller, true).await?;
    let mut fields = OrgFields::from(&current);
    apply_update(&mut fields, body)?;
    if fields.slug != current.slug
        && orgs::slug_taken(&mut tx, &fields.slug, Some(current.id))
            .await
            .map_err(internal)?
    {
        return Err(slug_taken());
    }
    let saved = orgs::update(&mut tx, current.id, &fields)
        .await
        .map_err(slug_conflict)?
        .ok_or_else(super::org_gate::org_not_found)?;
    let event = cx
        .event("organization.updated", Some(caller.actor))?
        .organization(saved.id)
        .resource("organization", Some(saved.id))
        .details(json!({"slug": saved.slug, "previous_slug": current.slug}));
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(Organization::from(&saved))
}

/// Memberships with their roles (without permissions).
pub async fn with_roles(
    conn: &mut PgConnection,
    rows: Vec<MemberRow>,
) -> Result<Vec<OrgMember>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let roles = members::roles_of(conn, &ids).await.map_err(internal)?;
    Ok(rows
        .iter()
        .map(|m| {
            let mine = roles
                .iter()
                .filter(|r| r.membership_id == m.id)
                .map(|r| without_permissions(r.role.clone()))
                .collect();
            OrgMember::new(m, mine)
        })
        .collect())
}

/// `GET .../members`.
pub async fn list_members(
    platform: &Platform,
    caller: &OrgCaller,
    page: Option<i64>,
    page_size: Option<i64>,
    status: Option<String>,
) -> Result<MemberPage, ApiError> {
    let page = Page::parse(page, page_size).map_err(field)?;
    let status = rules::status_filter(status.as_deref(), &MEMBER_STATUSES).map_err(field)?;
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    load_org(&mut conn, caller, false).await?;
    let (rows, total) = members::list(&mut conn, caller.org, status.as_deref(), page)
        .await
        .map_err(internal)?;
    Ok(MemberPage {
        members: with_roles(&mut conn, rows).await?,
        pagination: OrgPagination {
            page: page.page,
            page_size: page.page_size,
            total,
        },
    })
}

/// Resolves role ids to roles usable in the organisation (400 `VALIDATION_ERROR` naming
/// the unknown ones); none given = `org_member`.
pub async fn member_roles_by_id(
    conn: &mut PgConnection,
    org: Uuid,
    raw: Option<Vec<String>>,
) -> Result<Vec<RoleRow>, ApiError> {
    let ids = rules::dedup(
        raw.unwrap_or_default()
            .iter()
            .map(|r| parse_id("role_ids", r))
            .collect::<Result<Vec<Uuid>, _>>()?,
    );
    if ids.is_empty() {
        let codes = [auth_tokens::ORG_MEMBER_ROLE.to_owned()];
        return org_roles::usable_matching(conn, org, &[], &codes)
            .await
            .map_err(internal);
    }
    let found = org_roles::usable_matching(conn, org, &ids, &[])
        .await
        .map_err(internal)?;
    let missing: Vec<String> = ids
        .iter()
        .filter(|i| !found.iter().any(|r| r.id == **i))
        .map(Uuid::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(
            ApiError::validation("Unknown role or not an organization role")
                .with_details(json!({"role_ids": missing})),
        );
    }
    Ok(found)
}

/// The permission codes of `roles` the caller may not hand out (AZ-03); empty when
/// allowed.
pub async fn ungrantable(
    conn: &mut PgConnection,
    caller: &OrgCaller,
    roles: &[RoleRow],
) -> Result<Vec<String>, ApiError> {
    if caller.unrestricted() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
    let codes = org_roles::permission_codes(conn, &ids)
        .await
        .map_err(internal)?;
    Ok(not_grantable(caller, &codes))
}

/// 403 `FORBIDDEN` for roles with permissions the caller does not hold (audited).
pub async fn refuse_roles(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    refused: Vec<String>,
) -> ApiError {
    deny_escalation(
        platform,
        cx,
        caller,
        "Cannot grant a role with permissions you do not hold",
        json!({"permissions": refused}),
    )
    .await
}

/// `POST .../members`: a new active membership (409 `CONFLICT` when already a member).
pub async fn add_member(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    body: AddMember,
) -> Result<(), ApiError> {
    let user = parse_id("user_id", &body.user_id)?;
    let mut tx = platform.db.begin().await.map_err(internal)?;
    load_org(&mut tx, caller, false).await?;
    if !users::exists(&mut tx, user).await.map_err(internal)? {
        return Err(user_not_found());
    }
    let roles = member_roles_by_id(&mut tx, caller.org, body.role_ids).await?;
    let refused = ungrantable(&mut tx, caller, &roles).await?;
    if !refused.is_empty() {
        drop(tx);
        return Err(refuse_roles(platform, cx, caller, refused).await);
    }
    let by = users::exists(&mut tx, caller.actor)
        .await
        .map_err(internal)?
        .then_some(caller.actor);
    let membership = members::insert(&mut tx, caller.org, user, "active", by)
        .await
        .map_err(|e| match auth_db::unique_violation(&e) {
            Some(_) => ApiError::conflict("User is already a member of this organization"),
            None => internal(e),
        })?;
    let ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
    members::add_roles(&mut tx, membership, &ids, by)
        .await
        .map_err(internal)?;
    let codes: Vec<&str> = roles.iter().map(|r| r.code.as_str()).collect();
    let event = cx
        .event("organization.member_added", Some(caller.actor))?
        .organization(caller.org)
        .resource("organization_member", Some(membership))
        .details(json!({"roles": codes}))
        .subject_user(user);
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(())
}

/// `DELETE .../members/{userId}` (the owner stays) and `PUT .../status` (the owner stays
/// active): one status change, a token-version bump for the member. A restricted caller
/// cannot act on a member holding permissions it does not hold (AZ-03).
pub async fn set_member_status(
    platform: &Platform,
    cx: &AuditCtx,
    caller: &OrgCaller,
    raw_user: &str,
    status: &str,
) -> Result<(), ApiError> {
    let user = parse_id("user_id", raw_user)?;
    let status = status.trim();
    if !MEMBER_STATUSES.contains(&status) {
        return Err(ApiError::invalid_input(
            "status",
            "status must be pending, active, suspended or removed",
        ));
    }
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let org = load_org(&mut tx, caller, false).await?;
    let member = members::get(&mut tx, caller.org, user, true)
        .await
        .map_err(internal)?
        .ok_or_else(member_not_found)?;
    if user == org.owner_id && status != "active" {
        let msg = if status == "removed" {
            "Cannot remove organization owner"
        } else {
            "Cannot change the status of the organization owner"
        };
        return Err(ApiError::validation(msg));
    }
    if member.status == status {
        return Ok(());
    }
    let held = members::roles_of(&mut tx, &[member.id])
        .await
        .map_err(internal)?;
    let held: Vec<RoleRow> = held.into_iter().map(|r| r.role).collect();
    let refused = ungrantable(&mut tx, caller, &held).await?;
    if !refused.is_empty() {
        drop(tx);
        return Err(deny_escalation(
            platform,
            cx,
            caller,
            "Cannot change a member who holds permissions you do not hold",
            json!({"permissions": refused}),
        )
        .await);
    }
    members::set_status(&mut tx, member.id, status)
        .await
        .map_err(internal)?;
    let bumps = bump_all(&mut tx, &[user]).await?;
    let action = if status == "removed" {
        "organization.member_removed"
    } else {
        "organization.member_status_changed"
    };
    let event = cx
        .event(action, Some(caller.actor))?
        .organization(caller.org)
        .resource("organization_member", Some(member.id))
        .details(json!({"before": member.status, "after": status}))
        .subject_user(user);
    auth_bus::enqueue_audit(&mut tx, &event)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    publish_all(platform, bumps).await;
    Ok(())
}
