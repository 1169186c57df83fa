//! App reads beyond `auth_tokens::load_app`.

use sqlx::PgConnection;

/// The app's `frontend_url` (base of email links, §2.3), when set and non-empty.
pub async fn frontend_url(
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
