//! SQL over `apps`.

use sqlx::PgPool;

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
