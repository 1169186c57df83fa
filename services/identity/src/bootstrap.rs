//! The first `system_admin`, created at start-up by `auth-server create-admin`.

use sqlx::PgPool;
use uuid::Uuid;

/// What [`ensure_system_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    /// A new active, verified user with the `system_admin` base role.
    Created(Uuid),
    /// The email already belonged to a user; it now holds `system_admin` (password unchanged).
    Existing(Uuid),
}

/// Creates the platform's first administrator in the `default` pool, or grants
/// `system_admin` to the existing user with that email. Both in one transaction.
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
    let outcome = match existing {
        Some(id) => Bootstrap::Existing(id),
        None => {
            let id: Uuid = sqlx::query_scalar(
                "insert into users (email, email_verified, first_name, last_name, status, password_hash, auth_provider)
                 values ($1, true, $2, $3, 'active', $4, 'local') returning id",
            )
            .bind(&email)
            .bind(first_name)
            .bind(last_name)
            .bind(password_hash)
            .fetch_one(&mut *tx)
            .await?;
            Bootstrap::Created(id)
        }
    };
    let user_id = match outcome {
        Bootstrap::Created(id) | Bootstrap::Existing(id) => id,
    };
    sqlx::query(
        "insert into user_base_roles (user_id, role_id)
         select $1, r.id from roles r
         where r.code = 'system_admin' and r.organization_id is null and r.deleted_at is null
           and not exists (select 1 from user_base_roles ub where ub.user_id = $1 and ub.role_id = r.id)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(outcome)
}
