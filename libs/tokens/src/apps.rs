//! App scope: loading an app by code and the `user_apps` grant helpers used by login's
//! app-grant step (contract §5.1 step 10, §6.2).

use sqlx::PgConnection;
use uuid::Uuid;

/// The parts of an `apps` row that login, registration and token issuance read.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AppScope {
    /// App id (the `app_id` claim).
    pub id: Uuid,
    /// App code (the `app_code` claim).
    pub code: String,
    /// Display name.
    pub name: String,
    /// `active` or another status; only active apps may be logged into.
    pub status: String,
    /// Services whose permissions an app-scoped token carries, besides `core` (§9.4).
    pub service_codes: Vec<String>,
    /// Grant access on first contact instead of refusing with 403.
    pub auto_grant_on_signup: bool,
    /// Organization new users are provisioned into.
    pub default_organization_id: Option<Uuid>,
    /// Role given in the default organization (`org_member` when unset).
    pub default_role_code: Option<String>,
    /// Apps granted together with this one.
    pub linked_app_codes: Vec<String>,
    /// Home pool of users registered through this app.
    pub registration_namespace: Option<String>,
    /// Legacy list form of `registration_namespace`.
    pub registration_namespaces: Vec<String>,
    /// Pools in which this app looks emails up.
    pub read_namespaces: Vec<String>,
    /// Email domains allowed to register (empty = any).
    pub allowed_email_domains: Vec<String>,
    /// Auth methods allowed to register (empty = any).
    pub allowed_auth_methods: Vec<String>,
}

impl AppScope {
    /// Whether the app accepts logins (`status = 'active'`).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// The permission services an app-scoped token keeps: the app's `service_codes` plus
    /// `core` (§9.4).
    #[must_use]
    pub fn permission_services(&self) -> Vec<String> {
        let mut services = self.service_codes.clone();
        if !services.iter().any(|s| s == CORE_SERVICE) {
            services.push(CORE_SERVICE.to_owned());
        }
        services
    }
}

/// The service that owns the auth platform's own permissions.
pub const CORE_SERVICE: &str = "core";

/// Loads a live (not soft-deleted) app by its code, whatever its status.
pub async fn load_app(
    conn: &mut PgConnection,
    code: &str,
) -> Result<Option<AppScope>, sqlx::Error> {
    sqlx::query_as::<_, AppScope>(
        "select id, code, name, status, service_codes, auto_grant_on_signup,
                default_organization_id, default_role_code, linked_app_codes,
                registration_namespace, registration_namespaces, read_namespaces,
                allowed_email_domains, allowed_auth_methods
           from apps
          where code = $1 and deleted_at is null",
    )
    .bind(code)
    .fetch_optional(conn)
    .await
}

/// Whether the user holds an active `user_apps` grant for the app.
pub async fn has_active_grant(
    conn: &mut PgConnection,
    user_id: Uuid,
    app_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from user_apps
                         where user_id = $1 and app_id = $2 and status = 'active')",
    )
    .bind(user_id)
    .bind(app_id)
    .fetch_one(conn)
    .await
}

/// Grants the app to the user (or re-activates a revoked grant). Returns `true` when a grant
/// was created or re-activated, `false` when an active one already existed.
pub async fn grant_app(
    conn: &mut PgConnection,
    user_id: Uuid,
    app_id: Uuid,
    granted_by: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "insert into user_apps (user_id, app_id, granted_by, status, granted_at)
         values ($1, $2, $3, 'active', now())
         on conflict (user_id, app_id) do update
            set status = 'active', granted_at = now(), granted_by = excluded.granted_by,
                updated_at = now()
          where user_apps.status <> 'active'",
    )
    .bind(user_id)
    .bind(app_id)
    .bind(granted_by)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// The live app's `frontend_url` (the base of links in mail, contract §2.3), when set and
/// non-empty.
pub async fn app_frontend_url(
    conn: &mut PgConnection,
    code: &str,
) -> Result<Option<String>, sqlx::Error> {
    let url: Option<Option<String>> =
        sqlx::query_scalar("select frontend_url from apps where code = $1 and deleted_at is null")
            .bind(code)
            .fetch_optional(conn)
            .await?;
    Ok(url.flatten().filter(|u| !u.trim().is_empty()))
}
