//! SQL over `organizations` (live rows: `deleted_at is null`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::orgs::{OrgSort, Page};

/// An `organizations` row as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    /// Row id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique among live organisations.
    pub slug: String,
    /// Free text.
    pub description: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// `pending`, `active`, `suspended` or `deleted`.
    pub status: String,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Owner (a member that cannot be removed or suspended).
    pub owner_id: Uuid,
    /// Plan.
    pub plan: Option<String>,
    /// Per-organisation SSO.
    pub sso_enabled: Option<bool>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The editable fields of an organisation (`None` = NULL).
#[derive(Debug, Clone, Default)]
pub struct OrgFields {
    /// Display name.
    pub name: String,
    /// Slug derived from the name.
    pub slug: String,
    /// Free text.
    pub description: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

impl From<&OrgRow> for OrgFields {
    fn from(o: &OrgRow) -> Self {
        Self {
            name: o.name.clone(),
            slug: o.slug.clone(),
            description: o.description.clone(),
            logo_url: o.logo_url.clone(),
            website: o.website.clone(),
            contact_email: o.contact_email.clone(),
            contact_phone: o.contact_phone.clone(),
            address: o.address.clone(),
            city: o.city.clone(),
            state: o.state.clone(),
            country: o.country.clone(),
            postal_code: o.postal_code.clone(),
        }
    }
}

/// Columns of [`OrgRow`] on the alias `o`.
pub const ORG_COLUMNS: &str = "o.id, o.name, o.slug, o.description, o.logo_url, o.website, \
     o.status, o.contact_email, o.contact_phone, o.address, o.city, o.state, o.country, \
     o.postal_code, o.owner_id, o.plan, o.sso_enabled, o.created_at, o.updated_at";

/// One page of live organisations (optionally of one status) and the total count.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<&str>,
    sort: OrgSort,
    page: Page,
) -> Result<(Vec<OrgRow>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "select count(*) from organizations o
          where o.deleted_at is null and ($1::text is null or o.status = $1)",
    )
    .bind(status)
    .fetch_one(&mut *conn)
    .await?;
    // `sort.column` comes from a fixed allow-list (domain::orgs::ORG_SORT_COLUMNS)
    let dir = if sort.desc { "desc" } else { "asc" };
    let rows = sqlx::query_as(&format!(
        "select {ORG_COLUMNS} from organizations o
          where o.deleted_at is null and ($1::text is null or o.status = $1)
          order by o.{col} {dir}, o.id {dir}
          limit $2 offset $3",
        col = sort.column
    ))
    .bind(status)
    .bind(page.page_size)
    .bind(page.offset())
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// A live organisation; `lock` takes a row lock for the rest of the transaction.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<OrgRow>, sqlx::Error> {
    let suffix = if lock { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select {ORG_COLUMNS} from organizations o where o.id = $1 and o.deleted_at is null{suffix}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whether a live organisation other than `except` holds `slug`.
pub async fn slug_taken(
    conn: &mut PgConnection,
    slug: &str,
    except: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from organizations
                         where slug = $1 and deleted_at is null and id is distinct from $2)",
    )
    .bind(slug)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Creates an active organisation owned by `owner` (a taken slug is the unique violation
/// `organizations_slug_unique`).
pub async fn insert(
    conn: &mut PgConnection,
    f: &OrgFields,
    owner: Uuid,
) -> Result<OrgRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "with o as (
           insert into organizations (name, slug, description, logo_url, website, contact_email,
                  contact_phone, address, city, state, country, postal_code, owner_id, status)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active')
           returning *)
         select {ORG_COLUMNS} from o"
    ))
    .bind(&f.name)
    .bind(&f.slug)
    .bind(&f.description)
    .bind(&f.logo_url)
    .bind(&f.website)
    .bind(&f.contact_email)
    .bind(&f.contact_phone)
    .bind(&f.address)
    .bind(&f.city)
    .bind(&f.state)
    .bind(&f.country)
    .bind(&f.postal_code)
    .bind(owner)
    .fetch_one(conn)
    .await
}

/// Writes the editable fields of a live organisation.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    f: &OrgFields,
) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "with o as (
           update organizations set name = $2, slug = $3, description = $4, logo_url = $5,
                  website = $6, contact_email = $7, contact_phone = $8, address = $9, city = $10,
                  state = $11, country = $12, postal_code = $13, updated_at = now()
            where id = $1 and deleted_at is null
           returning *)
         select {ORG_COLUMNS} from o"
    ))
    .bind(id)
    .bind(&f.name)
    .bind(&f.slug)
    .bind(&f.description)
    .bind(&f.logo_url)
    .bind(&f.website)
    .bind(&f.contact_email)
    .bind(&f.contact_phone)
    .bind(&f.address)
    .bind(&f.city)
    .bind(&f.state)
    .bind(&f.country)
    .bind(&f.postal_code)
    .fetch_optional(conn)
    .await
}

/// Soft-deletes a live organisation (`status = 'deleted'`, `deleted_at` set) and revokes
/// its pending invitations; returns whether a row changed.
pub async fn soft_delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update organizations set status = 'deleted', deleted_at = now(), updated_at = now()
          where id = $1 and deleted_at is null",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update invitations set status = 'revoked', updated_at = now()
          where organization_id = $1 and status = 'pending'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Codes of the live apps that use `id` as their default organisation.
pub async fn default_of_apps(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select code from apps where default_organization_id = $1 and deleted_at is null
          order by code",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}
