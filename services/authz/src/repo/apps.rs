//! SQL over `apps` and `user_apps`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// What `GET /apps/{code}/registration-policy` shows of an app.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationPolicyRow {
    /// App code.
    pub code: String,
    /// App name.
    pub name: String,
    /// Email domains allowed to register (empty = any).
    pub allowed_email_domains: Vec<String>,
    /// Auth methods allowed (empty = any).
    pub allowed_auth_methods: Vec<String>,
    /// Name of the default organisation, when the app has one.
    pub default_organization_name: Option<String>,
    /// Whether the app has a default organisation.
    pub has_default_organization: bool,
}

/// The registration policy of the non-deleted app `code`.
pub async fn registration_policy(
    db: &PgPool,
    code: &str,
) -> Result<Option<RegistrationPolicyRow>, sqlx::Error> {
    sqlx::query_as(
        "select a.code, a.name, a.allowed_email_domains, a.allowed_auth_methods,
                o.name as default_organization_name,
                a.default_organization_id is not null as has_default_organization
         from apps a
         left join organizations o on o.id = a.default_organization_id and o.deleted_at is null
         where a.code = $1 and a.deleted_at is null",
    )
    .bind(code)
    .fetch_optional(db)
    .await
}

/// A full `apps` row (the contract's AppRecord).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    /// Row id.
    pub id: Uuid,
    /// Immutable unique code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Redirect URLs allowed for this app.
    pub allowed_redirect_urls: Vec<String>,
    /// Permission services its tokens carry (plus `core`).
    pub service_codes: Vec<String>,
    /// Grant on first contact.
    pub auto_grant_on_signup: bool,
    /// `active`, `inactive` or `suspended`.
    pub status: String,
    /// Email domains allowed to register.
    pub allowed_email_domains: Vec<String>,
    /// Auth methods allowed.
    pub allowed_auth_methods: Vec<String>,
    /// Organisation new users join.
    pub default_organization_id: Option<Uuid>,
    /// Front-end base URL.
    pub frontend_url: Option<String>,
    /// Home pool of new users.
    pub registration_namespace: Option<String>,
    /// Legacy list form of the home pool.
    pub registration_namespaces: Vec<String>,
    /// Pools searched at login.
    pub read_namespaces: Vec<String>,
    /// Webhooks (`[{name?, url, events, enabled}]`).
    pub webhooks: serde_json::Value,
    /// Role in the default organisation.
    pub default_role_code: Option<String>,
    /// Apps granted together with this one.
    pub linked_app_codes: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Soft-delete time.
    pub deleted_at: Option<DateTime<Utc>>,
}

const APP_COLUMNS: &str = "a.id, a.code, a.name, a.description, a.allowed_redirect_urls, \
    a.service_codes, a.auto_grant_on_signup, a.status, a.allowed_email_domains, \
    a.allowed_auth_methods, a.default_organization_id, a.frontend_url, a.registration_namespace, \
    a.registration_namespaces, a.read_namespaces, a.webhooks, a.default_role_code, \
    a.linked_app_codes, a.created_at, a.updated_at, a.deleted_at";

/// Live apps, by code.
pub async fn list(db: &PgPool) -> Result<Vec<AppRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {APP_COLUMNS} from apps a where a.deleted_at is null order by a.code"
    ))
    .fetch_all(db)
    .await
}

/// One live app by id; `for update` locks it inside a transaction.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<Option<AppRow>, sqlx::Error> {
    let lock = if for_update { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select {APP_COLUMNS} from apps a where a.id = $1 and a.deleted_at is null{lock}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Inserts (`row.id` unset = new) or fully updates an app from `row`; returns the stored row.
/// A taken code fails with `apps_code_key`.
pub async fn save(
    conn: &mut PgConnection,
    row: &AppRow,
    insert: bool,
) -> Result<AppRow, sqlx::Error> {
    let sql = if insert {
        format!(
            "insert into apps as a (code, name, description, allowed_redirect_urls, service_codes,
                 auto_grant_on_signup, status, allowed_email_domains, allowed_auth_methods,
                 default_organization_id, frontend_url, registration_namespace,
                 registration_namespaces, read_namespaces, webhooks, default_role_code,
                 linked_app_codes)
             values ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
             returning {APP_COLUMNS}"
        )
    } else {
        format!(
            "update apps a set name = $3, description = $4, allowed_redirect_urls = $5,
                 service_codes = $6, auto_grant_on_signup = $7, status = $8,
                 allowed_email_domains = $9, allowed_auth_methods = $10,
                 default_organization_id = $11, frontend_url = $12, registration_namespace = $13,
                 registration_namespaces = $14, read_namespaces = $15, webhooks = $16,
                 default_role_code = $17, linked_app_codes = $18, updated_at = now()
              where a.id = $1 and a.deleted_at is null
             returning {APP_COLUMNS}"
        )
    };
    sqlx::query_as(&sql)
        .bind(row.id)
        .bind(&row.code)
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.allowed_redirect_urls)
        .bind(&row.service_codes)
        .bind(row.auto_grant_on_signup)
        .bind(&row.status)
        .bind(&row.allowed_email_domains)
        .bind(&row.allowed_auth_methods)
        .bind(row.default_organization_id)
        .bind(&row.frontend_url)
        .bind(&row.registration_namespace)
        .bind(&row.registration_namespaces)
        .bind(&row.read_namespaces)
        .bind(&row.webhooks)
        .bind(&row.default_role_code)
        .bind(&row.linked_app_codes)
        .fetch_one(conn)
        .await
}

/// Soft-deletes a live app; `false` when there was none.
pub async fn soft_delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update apps set deleted_at = now(), updated_at = now() where id = $1 and deleted_at is null",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a live organisation exists.
pub async fn org_exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from organizations where id = $1 and deleted_at is null)",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Whether `code` names an org-scoped role usable in `org_id` (a system org role, or a
/// custom role of that organisation).
pub async fn is_org_role(
    conn: &mut PgConnection,
    code: &str,
    org_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from roles where code = $1 and deleted_at is null
                          and coalesce(is_org_role, false)
                          and (organization_id is null or organization_id = $2))",
    )
    .bind(code)
    .bind(org_id)
    .fetch_one(conn)
    .await
}

/// The codes of `codes` that name no live app.
pub async fn unknown_codes(
    conn: &mut PgConnection,
    codes: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select c from unnest($1::text[]) c
          where not exists (select 1 from apps where code = c and deleted_at is null)",
    )
    .bind(codes)
    .fetch_all(conn)
    .await
}

/// Live apps the user holds an active grant for.
pub async fn granted_to(db: &PgPool, user_id: Uuid) -> Result<Vec<AppRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {APP_COLUMNS} from apps a
           join user_apps ua on ua.app_id = a.id and ua.user_id = $1 and ua.status = 'active'
          where a.deleted_at is null order by a.code"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Revokes the user's active grant; `false` when there was none.
pub async fn revoke_grant(
    conn: &mut PgConnection,
    user_id: Uuid,
    app_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update user_apps set status = 'revoked', updated_at = now()
          where user_id = $1 and app_id = $2 and status = 'active'",
    )
    .bind(user_id)
    .bind(app_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
