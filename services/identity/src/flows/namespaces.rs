//! Pools (`/admin/namespaces`, `/admin/users/{userId}/namespace(s)`, §2.11, system_admin).
//! Moving a user's home pool changes the `namespace` claim, so it bumps the token version.

use auth_bus::{AuditAction, bump_token_version_in_tx};
use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use uuid::Uuid;

use super::common::{Client, audit};
use super::password::publish_bump;
use crate::domain::Namespace;
use crate::error::{internal, unique_violation, user_not_found};
use crate::repo::namespaces::{self, PoolRow};
use crate::repo::users::{self, UserRow};

/// Parses a pool name from `field`: 400 `INVALID_INPUT` when malformed.
pub fn pool(field: &str, raw: &str) -> Result<Namespace, ApiError> {
    Namespace::parse(raw).ok_or_else(|| {
        ApiError::invalid_input(
            field,
            "namespace must be 1-100 characters of letters, digits, '.', '_' or '-'",
        )
    })
}

async fn live_user(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<UserRow, ApiError> {
    users::lock_by_id(conn, id)
        .await
        .map_err(internal)?
        .filter(|u| !u.is_deleted())
        .ok_or_else(user_not_found)
}

/// `GET /admin/namespaces`.
pub async fn overview(platform: &Platform) -> Result<Vec<PoolRow>, ApiError> {
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    namespaces::overview(&mut conn).await.map_err(internal)
}

/// `GET /admin/users/{userId}/namespaces`: home pool and tags.
pub async fn of_user(platform: &Platform, id: Uuid) -> Result<(String, Vec<String>), ApiError> {
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    let user = users::find_by_id(&mut conn, id)
        .await
        .map_err(internal)?
        .filter(|u| !u.is_deleted())
        .ok_or_else(user_not_found)?;
    let tags = namespaces::tags(&mut conn, id).await.map_err(internal)?;
    Ok((user.namespace, tags))
}

fn taken() -> ApiError {
    ApiError::new(
        ErrorCode::UserAlreadyExists,
        "A user with this email already exists in the target namespace",
    )
}

/// `PUT /admin/users/{userId}/namespace`: 409 when the email is taken in the target pool.
pub async fn set_home(
    platform: &Platform,
    admin: Uuid,
    id: Uuid,
    target: &Namespace,
    client: &Client,
) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = live_user(&mut tx, id).await?;
    if user.namespace == target.as_str() {
        return Ok(());
    }
    if namespaces::email_taken(&mut tx, id, &user.email, target.as_str())
        .await
        .map_err(internal)?
    {
        return Err(taken());
    }
    if let Err(e) = namespaces::set_home(&mut tx, id, target.as_str()).await {
        return Err(match unique_violation(&e) {
            Some(_) => taken(),
            None => internal(e),
        });
    }
    let bump = bump_token_version_in_tx(&mut tx, id)
        .await
        .map_err(internal)?;
    let event = client
        .event(AuditAction::new("user.namespace_changed").map_err(internal)?)
        .actor(admin)
        .resource("user", Some(id))
        .details(serde_json::json!({ "from": user.namespace, "to": target.as_str() }))
        .subject_user(id);
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)?;
    publish_bump(platform, bump).await;
    Ok(())
}

/// `POST /admin/users/{userId}/namespaces` (tag; tagging the home pool is a no-op) and
/// `DELETE /admin/users/{userId}/namespaces/{namespace}` (the home pool is refused with 400
/// `VALIDATION_ERROR`). Both idempotent.
pub async fn change_tag(
    platform: &Platform,
    admin: Uuid,
    id: Uuid,
    tag: &Namespace,
    add: bool,
    client: &Client,
) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    let user = live_user(&mut tx, id).await?;
    if user.namespace == tag.as_str() {
        if add {
            return Ok(());
        }
        return Err(ApiError::validation(
            "The home namespace cannot be removed; move the user with PUT .../namespace",
        ));
    }
    let action = if add {
        namespaces::add_tag(&mut tx, id, tag.as_str())
            .await
            .map_err(internal)?;
        "user.namespace_tagged"
    } else {
        namespaces::remove_tag(&mut tx, id, tag.as_str())
            .await
            .map_err(internal)?;
        "user.namespace_untagged"
    };
    let event = client
        .event(AuditAction::new(action).map_err(internal)?)
        .actor(admin)
        .resource("user", Some(id))
        .details(serde_json::json!({ "namespace": tag.as_str() }))
        .subject_user(id);
    audit(&mut tx, &event).await?;
    tx.commit().await.map_err(internal)
}
