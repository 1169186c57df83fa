//! The first `system_admin`, created at start-up by `auth-server create-admin`.

use sqlx::PgPool;
use uuid::Uuid;

/// What [`ensure_system_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    /// A new active, verified user with the `system_admin` base role.
    Created(Uuid),
    /// The email already belongs to a `system_admin`; nothing changed.
    Existing(Uuid),
    /// The email belongs to an account without `system_admin`: refused, since promoting it
    /// would hand the platform to whoever registered that address first.
    NotAnAdmin(Uuid),
}

/// Creates the platform's first administrator in the `default` pool, in one transaction.
/// An existing account with that email is left alone: reported as [`Bootstrap::Existing`]
/// when it already is a `system_admin`, else as [`Bootstrap::NotAnAdmin`].
pub async fn ensure_system_admin(
    db: &PgPool,
    email: &str,
    password_hash: &str,
    first_name: &str,
    last_name: &str,
) -> Result<Bootstrap, sqlx::Error> {
    let email = email.trim().to_lowercase();
    let mut tx = db.begin().await?;
    let existing: Option<Uuid> = sqlx::query_scalar(
        "select id from users where namespace = 'default' and lower(email) = $1 and deleted_at is null",
    )
    .bind(&email)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = existing {
        let is_admin: bool = sqlx::query_scalar(
            "select exists (select 1 from user_base_roles ub join roles r on r.id = ub.role_id
                            where ub.user_id = $1 and r.code = 'system_admin' and r.organization_id is null)",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        return Ok(if is_admin {
            Bootstrap::Existing(id)
        } else {
            Bootstrap::NotAnAdmin(id)
        });
    }
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (email, email_verified, first_name, last_name, status, password_hash, auth_provider)
         values ($1, true, $2, $3, 'active', $4, 'local') returning id",
    )
    .bind(&email)
    .bind(first_name)
    .bind(last_name)
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "insert into user_base_roles (user_id, role_id)
         select $1, r.id from roles r
         where r.code = 'system_admin' and r.organization_id is null and r.deleted_at is null",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Bootstrap::Created(user_id))
}
