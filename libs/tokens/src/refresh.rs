//! What a refresh reads and writes, one statement each (contract §5.2, ARCHITECTURE §8):
//! [`load_refresh_context`] reads the presented row, its session, the user, the app scope and
//! the claims for (user, app, org); [`rotate_at_version`] is [`crate::rotate`] guarded by the
//! user's token version, so a rotation and a token-version bump (logout-all) serialise on the
//! user row and no token minted during the race survives it (SES-09).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::apps::AppScope;
use crate::error::ClaimsError;
use crate::grants::{GrantRow, Grants, grants_columns, grants_ctes, grants_from_row};
use crate::store::{NewRefreshRow, RotatedRow, rotate_sql};
use crate::subject::UserIdentity;

/// The presented `refresh_tokens` row and the family's session, as read before rotating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRowState {
    /// Row id (`tid`).
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// Org scope of the row.
    pub organization_id: Option<Uuid>,
    /// App scope of the row.
    pub app_id: Option<Uuid>,
    /// Whether the row is revoked (NULL counts as false).
    pub revoked: bool,
    /// Why it was revoked (`token_refresh` when a rotation consumed it).
    pub revoked_reason: Option<String>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// When the row was issued (the idle-timeout policy measures from here).
    pub created_at: DateTime<Utc>,
    /// The session pointing at this row, if any.
    pub session_id: Option<Uuid>,
    /// Whether that session is terminated.
    pub session_terminated: bool,
}

/// The user as a refresh needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshUser {
    /// The fields the access token carries (with the current `token_version`).
    pub identity: UserIdentity,
    /// `users.status` (`pending`, `active`, `suspended`, `deleted`).
    pub status: String,
    /// Whether the user is soft-deleted (`deleted_at` set).
    pub deleted: bool,
}

/// Everything [`load_refresh_context`] read.
#[derive(Debug)]
pub struct RefreshContext {
    /// The presented row.
    pub row: RefreshRowState,
    /// The user named by the token (`None` when no such user).
    pub user: Option<RefreshUser>,
    /// The row's app, when it is app-scoped and the app still exists (not soft-deleted).
    pub app: Option<AppScope>,
    /// Whether the user holds an active `user_apps` grant for that app.
    pub app_granted: bool,
    /// Roles, permissions and org scope for (user, app, requested org), or the org gate
    /// that refused.
    pub grants: Result<Grants, ClaimsError>,
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    rt_id: Option<Uuid>,
    rt_user_id: Option<Uuid>,
    rt_family_id: Option<Uuid>,
    rt_organization_id: Option<Uuid>,
    rt_app_id: Option<Uuid>,
    rt_revoked: Option<bool>,
    rt_revoked_reason: Option<String>,
    rt_expires_at: Option<DateTime<Utc>>,
    rt_created_at: Option<DateTime<Utc>>,
    session_id: Option<Uuid>,
    session_terminated: Option<bool>,
    u_id: Option<Uuid>,
    u_email: Option<String>,
    u_first_name: Option<String>,
    u_last_name: Option<String>,
    u_display_name: Option<String>,
    u_auth_provider: Option<String>,
    u_namespace: Option<String>,
    u_token_version: Option<i64>,
    u_status: Option<String>,
    u_deleted: Option<bool>,
    app_id: Option<Uuid>,
    app_code: Option<String>,
    app_name: Option<String>,
    app_status: Option<String>,
    app_service_codes: Option<Vec<String>>,
    app_auto_grant_on_signup: Option<bool>,
    app_default_organization_id: Option<Uuid>,
    app_default_role_code: Option<String>,
    app_linked_app_codes: Option<Vec<String>>,
    app_registration_namespace: Option<String>,
    app_registration_namespaces: Option<Vec<String>>,
    app_read_namespaces: Option<Vec<String>>,
    app_allowed_email_domains: Option<Vec<String>>,
    app_allowed_auth_methods: Option<Vec<String>>,
    app_granted: bool,
    #[sqlx(flatten)]
    grants: GrantRow,
}

/// $1 user (the token's `uid`), $2 org (requested or kept), $3 row id (`tid`).
const CONTEXT_SQL: &str = concat!(
    "
with rt as (
    select r.id, r.user_id, r.family_id, r.organization_id, r.app_id,
           r.revoked is true as revoked, r.revoked_reason, r.expires_at, r.created_at
      from refresh_tokens r
     where r.id = $3
),
sess as (
    select s.id, s.terminated is true as terminated
      from sessions s join rt on s.refresh_token_id = rt.id
     order by s.terminated is true, s.created_at
     limit 1
),
usr as (
    select u.id, u.email, u.first_name, u.last_name, u.display_name, u.auth_provider,
           u.namespace, u.token_version, u.status, u.deleted_at is not null as deleted
      from users u
     where u.id = $1
),
app as (
    select a.id, a.code, a.name, a.status, a.service_codes, a.auto_grant_on_signup,
           a.default_organization_id, a.default_role_code, a.linked_app_codes,
           a.registration_namespace, a.registration_namespaces, a.read_namespaces,
           a.allowed_email_domains, a.allowed_auth_methods
      from apps a join rt on a.id = rt.app_id
     where a.deleted_at is null
),
svc as (
    select case when a.id is null then null::text[]
                when 'core' = any(a.service_codes::text[]) then a.service_codes::text[]
                else array_append(a.service_codes::text[], 'core'::text)
           end as services
      from (select 1) as one left join app a on true
),",
    grants_ctes!(),
    "
select rt.id as rt_id, rt.user_id as rt_user_id, rt.family_id as rt_family_id,
       rt.organization_id as rt_organization_id, rt.app_id as rt_app_id,
       rt.revoked as rt_revoked, rt.revoked_reason as rt_revoked_reason,
       rt.expires_at as rt_expires_at, rt.created_at as rt_created_at,
       sess.id as session_id, sess.terminated as session_terminated,
       usr.id as u_id, usr.email as u_email, usr.first_name as u_first_name,
       usr.last_name as u_last_name, usr.display_name as u_display_name,
       usr.auth_provider as u_auth_provider, usr.namespace as u_namespace,
       usr.token_version as u_token_version, usr.status as u_status, usr.deleted as u_deleted,
       app.id as app_id, app.code as app_code, app.name as app_name, app.status as app_status,
       app.service_codes as app_service_codes,
       app.auto_grant_on_signup as app_auto_grant_on_signup,
       app.default_organization_id as app_default_organization_id,
       app.default_role_code as app_default_role_code,
       app.linked_app_codes as app_linked_app_codes,
       app.registration_namespace as app_registration_namespace,
       app.registration_namespaces as app_registration_namespaces,
       app.read_namespaces as app_read_namespaces,
       app.allowed_email_domains as app_allowed_email_domains,
       app.allowed_auth_methods as app_allowed_auth_methods,
       exists (select 1 from user_apps ua join app on ua.app_id = app.id
                where ua.user_id = $1 and ua.status = 'active') as app_granted,",
    grants_columns!(),
    "
  from (select 1) as one
  left join rt on true
  left join sess on true
  left join usr on true
  left join app on true
"
);

/// Reads, in one statement, the refresh row `row_id` with its session, the user `user_id`
/// (the token's `uid`; the caller checks it owns the row), the row's app, the user's grant
/// for it, and the claims for (user, app, `org_id`). `None` when no such row exists.
pub async fn load_refresh_context(
    conn: &mut PgConnection,
    row_id: Uuid,
    user_id: Uuid,
    org_id: Option<Uuid>,
) -> Result<Option<RefreshContext>, sqlx::Error> {
    let r: ContextRow = sqlx::query_as(CONTEXT_SQL)
        .bind(user_id)
        .bind(org_id)
        .bind(row_id)
        .fetch_one(conn)
        .await?;
    let (Some(id), Some(owner), Some(family_id), Some(expires_at), Some(created_at)) = (
        r.rt_id,
        r.rt_user_id,
        r.rt_family_id,
        r.rt_expires_at,
        r.rt_created_at,
    ) else {
        return Ok(None);
    };
    let row = RefreshRowState {
        id,
        user_id: owner,
        family_id,
        organization_id: r.rt_organization_id,
        app_id: r.rt_app_id,
        revoked: r.rt_revoked.unwrap_or(false),
        revoked_reason: r.rt_revoked_reason,
        expires_at,
        created_at,
        session_id: r.session_id,
        session_terminated: r.session_terminated.unwrap_or(false),
    };
    let user = r.u_id.map(|id| RefreshUser {
        identity: UserIdentity {
            id,
            email: r.u_email.unwrap_or_default(),
            first_name: r.u_first_name.unwrap_or_default(),
            last_name: r.u_last_name.unwrap_or_default(),
            display_name: r.u_display_name.unwrap_or_default(),
            auth_provider: r.u_auth_provider.unwrap_or_default(),
            namespace: r.u_namespace.unwrap_or_default(),
            token_version: r.u_token_version.unwrap_or(0),
        },
        status: r.u_status.unwrap_or_default(),
        deleted: r.u_deleted.unwrap_or(false),
    });
    let app = match (r.app_id, r.app_code) {
        (Some(id), Some(code)) => Some(AppScope {
            id,
            code,
            name: r.app_name.unwrap_or_default(),
            status: r.app_status.unwrap_or_default(),
            service_codes: r.app_service_codes.unwrap_or_default(),
            auto_grant_on_signup: r.app_auto_grant_on_signup.unwrap_or(false),
            default_organization_id: r.app_default_organization_id,
            default_role_code: r.app_default_role_code,
            linked_app_codes: r.app_linked_app_codes.unwrap_or_default(),
            registration_namespace: r.app_registration_namespace,
            registration_namespaces: r.app_registration_namespaces.unwrap_or_default(),
            read_namespaces: r.app_read_namespaces.unwrap_or_default(),
            allowed_email_domains: r.app_allowed_email_domains.unwrap_or_default(),
            allowed_auth_methods: r.app_allowed_auth_methods.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Some(RefreshContext {
        row,
        user,
        app,
        app_granted: r.app_granted,
        grants: grants_from_row(org_id, r.grants),
    }))
}

/// Who a guarded rotation is for and what it assumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationGuard {
    /// The user owning the row.
    pub user_id: Uuid,
    /// `users.token_version` the new tokens were built with.
    pub token_version: i64,
    /// The id of the session opened when the old row has none (adopted rows); otherwise the
    /// family's session moves and keeps its id.
    pub new_session_id: Uuid,
}

const ROTATE_AT_VERSION_SQL: &str = rotate_sql!(
    "guard as materialized (
    select 1 from users where id = $11 and token_version = $12 for share
),",
    "
       and rt.user_id = $11 and exists (select 1 from guard)"
);

/// [`crate::rotate`], only while `users.token_version` still equals `guard.token_version`.
///
/// The user row is share-locked before the old refresh row: a token-version bump that commits
/// first makes this return `None`; one that comes later waits for this commit, and the
/// revocation that follows it in the same transaction sees the new row. `None` also covers
/// every case of [`crate::rotate`] (lost race, revoked, expired, session terminated).
pub async fn rotate_at_version(
    conn: &mut PgConnection,
    old_row_id: Uuid,
    new_row: &NewRefreshRow,
    now: DateTime<Utc>,
    guard: &RotationGuard,
) -> Result<Option<RotatedRow>, sqlx::Error> {
    sqlx::query_as::<_, RotatedRow>(ROTATE_AT_VERSION_SQL)
        .bind(old_row_id)
        .bind(now)
        .bind(new_row.id)
        .bind(new_row.organization_id)
        .bind(&new_row.token_hash)
        .bind(new_row.device.stored_user_agent())
        .bind(new_row.device.stored_ip())
        .bind(new_row.expires_at)
        .bind(new_row.app_id)
        .bind(guard.new_session_id)
        .bind(guard.user_id)
        .bind(guard.token_version)
        .fetch_optional(conn)
        .await
}
