//! `POST /admin/users/bulk-import` (§2.10, system_admin): up to 500 users with existing
//! bcrypt hashes. Each row succeeds or fails on its own (a savepoint per row) inside one
//! transaction, with one `user.bulk_imported` event; a refused request writes nothing.

use std::collections::HashSet;

use auth_bus::AuditAction;
use auth_edge::ApiError;
use auth_host::Platform;
use uuid::Uuid;

use super::common::{Client, audit, resolve_app};
use crate::domain::{Email, Namespace, pools};
use crate::error::internal;
use crate::repo::import::{self, ImportRow};
use crate::repo::users;

/// Most rows one request may carry.
pub const MAX_ROWS: usize = 500;

/// One user as sent.
#[derive(Clone, Debug, Default)]
pub struct ImportUser {
    /// Email.
    pub email: String,
    /// The existing hash.
    pub password_hash: String,
    /// `bcrypt` (default) is the only algorithm accepted.
    pub hash_algo: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Pools to tag the user into.
    pub namespace_tags: Vec<String>,
    /// Metadata object.
    pub metadata: Option<serde_json::Value>,
}

/// The request.
#[derive(Clone, Debug, Default)]
pub struct ImportRequest {
    /// App whose home pool is the default and which is granted to new users.
    pub app_code: Option<String>,
    /// Home pool of the rows (wins over the app's).
    pub default_namespace: Option<String>,
    /// Overwrite existing users instead of skipping them.
    pub update: bool,
    /// The rows.
    pub users: Vec<ImportUser>,
}

/// What happened to one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowOutcome {
    /// The email as sent (normalised when valid).
    pub email: String,
    /// `created`, `updated`, `skipped` or `error`.
    pub status: &'static str,
    /// The user id.
    pub uid: Option<Uuid>,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
}

/// Rows and totals.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// One outcome per row, in request order.
    pub rows: Vec<RowOutcome>,
}

impl ImportReport {
    /// Rows with `status`.
    #[must_use]
    pub fn count(&self, status: &str) -> i64 {
        i64::try_from(self.rows.iter().filter(|r| r.status == status).count()).unwrap_or(i64::MAX)
    }
}

fn is_bcrypt(hash: &str) -> bool {
    let b = hash.as_bytes();
    hash.len() == 60
        && (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"))
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && hash[7..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/')
}

fn name(field: Option<&str>) -> Result<Option<String>, String> {
    match field.map(str::trim) {
        None => Ok(None),
        Some(n) if n.chars().count() > 100 || n.chars().any(char::is_control) => {
            Err("names must be at most 100 characters of text".to_owned())
        }
        Some(n) => Ok(Some(n.to_owned())),
    }
}

/// A row as written, or why it cannot be.
struct Checked {
    email: String,
    hash: String,
    first: Option<String>,
    last: Option<String>,
    tags: Vec<String>,
    metadata: Option<serde_json::Value>,
}

fn check(u: &ImportUser) -> Result<Checked, String> {
    let email = Email::parse(&u.email).ok_or("invalid email")?;
    let algo = u.hash_algo.as_deref().map(str::trim).unwrap_or("bcrypt");
    if !algo.eq_ignore_ascii_case("bcrypt") {
        return Err(format!("unsupported hash_algo {algo:?} (only bcrypt)"));
    }
    let hash = u.password_hash.trim();
    if !is_bcrypt(hash) {
        return Err("password_hash is not a bcrypt hash".to_owned());
    }
    let tags = u
        .namespace_tags
        .iter()
        .map(|t| Namespace::parse(t).map(|n| n.as_str().to_owned()))
        .collect::<Option<Vec<_>>>()
        .ok_or("namespace_tags must be pool names ([A-Za-z0-9._-], 1-100)")?;
    if u.metadata.as_ref().is_some_and(|m| !m.is_object()) {
        return Err("metadata must be an object".to_owned());
    }
    Ok(Checked {
        email: email.as_str().to_owned(),
        hash: hash.to_owned(),
        first: name(u.first_name.as_deref())?,
        last: name(u.last_name.as_deref())?,
        tags,
        metadata: u
            .metadata
            .clone()
            .filter(|m| m.as_object().is_some_and(|o| !o.is_empty())),
    })
}

/// Runs the import.
pub async fn run(
    platform: &Platform,
    admin: Uuid,
    req: ImportRequest,
    client: &Client,
) -> Result<ImportReport, ApiError> {
    if req.users.len() > MAX_ROWS {
        return Err(ApiError::invalid_input(
            "users",
            format!("at most {MAX_ROWS} users per request"),
        ));
    }
    let app = match super::common::present(req.app_code.as_deref()) {
        Some(code) => resolve_app(platform, Some(code), true).await?,
        None => None,
    };
    let home = match super::common::present(req.default_namespace.as_deref()) {
        Some(raw) => Namespace::parse(raw)
            .ok_or_else(|| ApiError::invalid_input("default_namespace", "invalid pool name"))?
            .as_str()
            .to_owned(),
        None => pools::home_pool(app.as_ref()),
    };
    let mut report = ImportReport::default();
    let mut seen = HashSet::new();
    let mut tx = platform.db.begin().await.map_err(internal)?;
    for u in &req.users {
        let checked = match check(u) {
            Ok(c) => c,
            Err(reason) => {
                report.rows.push(error_row(u.email.trim(), reason));
                continue;
            }
        };
        if !seen.insert(checked.email.clone()) {
            report.rows.push(error_row(
                &checked.email,
                "duplicate email in this request".to_owned(),
            ));
            continue;
        }
        let row = ImportRow {
            email: &checked.email,
            password_hash: &checked.hash,
            first_name: checked.first.as_deref(),
            last_name: checked.last.as_deref(),
            namespace: &home,
            metadata: checked.metadata.as_ref(),
        };
        let mut sp = sqlx::Acquire::begin(&mut tx).await.map_err(internal)?;
        match write_row(
            &mut sp,
            &row,
            &checked.tags,
            app.as_ref(),
            req.update,
            admin,
        )
        .await
        {
            Ok(outcome) => {
                sp.commit().await.map_err(internal)?;
                report.rows.push(outcome);
            }
            Err(e) => {
                sp.rollback().await.map_err(internal)?;
                tracing::warn!(error = %e, "bulk import row failed");
                report
                    .rows
                    .push(error_row(&checked.email, "could not be stored".to_owned()));
            }
        }
    }
    let event = client
        .event(AuditAction::USER_BULK_IMPORTED)
        .actor(admin)
        .details(serde_json::json!({
            "app_code": app.as_ref().map(|a| a.code.clone()),
            "namespace": home,
            "created": report.count("created"),
            "updated": report.count("updated"),
            "skipped": report.count("skipped"),
            "errored": report.count("error"),
        }));
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)?;
    Ok(report)
}

fn error_row(email: &str, reason: String) -> RowOutcome {
    RowOutcome {
        email: email.chars().take(320).collect(),
        status: "error",
        uid: None,
        reason: Some(reason),
    }
}

async fn write_row(
    conn: &mut sqlx::PgConnection,
    row: &ImportRow<'_>,
    tags: &[String],
    app: Option<&auth_tokens::AppScope>,
    update: bool,
    admin: Uuid,
) -> Result<RowOutcome, sqlx::Error> {
    let (id, status) = match import::existing(conn, row).await? {
        Some(id) if !update => {
            return Ok(RowOutcome {
                email: row.email.to_owned(),
                status: "skipped",
                uid: Some(id),
                reason: Some("user exists".to_owned()),
            });
        }
        Some(id) => {
            import::update(conn, id, row).await?;
            (id, "updated")
        }
        None => {
            let id = import::insert(conn, row).await?;
            users::add_base_role(conn, id, "base_user").await?;
            (id, "created")
        }
    };
    users::tag_pools(conn, id, tags).await?;
    if let Some(app) = app {
        auth_tokens::grant_app(conn, id, app.id, Some(admin)).await?;
    }
    Ok(RowOutcome {
        email: row.email.to_owned(),
        status,
        uid: Some(id),
        reason: None,
    })
}
