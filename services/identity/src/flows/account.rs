//! `DELETE /me/account` (§2.8): the caller deletes their own account for good, with the
//! password and the literal confirmation `DELETE`.

use auth_bus::AuditAction;
use auth_edge::ApiError;
use auth_host::Platform;
use chrono::Utc;
use uuid::Uuid;

use super::admin::delete_user;
use super::common::Client;
use super::login::fail;
use crate::error::{hashing, internal, invalid_credentials, suspended, user_not_found};
use crate::repo::users;
use crate::state::Services;

/// The exact confirmation text.
pub const CONFIRMATION: &str = "DELETE";

/// Checks confirmation, lock and password (a wrong one counts toward the lockout), then
/// deletes like the admin's hard delete (409 `CONFLICT` for organisation owners).
pub async fn delete_self(
    platform: &Platform,
    services: &Services,
    id: Uuid,
    password: &str,
    confirmation: &str,
    client: &Client,
) -> Result<(), ApiError> {
    if confirmation != CONFIRMATION {
        return Err(ApiError::invalid_input(
            "confirmation",
            "confirmation must be exactly \"DELETE\"",
        ));
    }
    let user = {
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        users::find_by_id(&mut conn, id).await.map_err(internal)?
    }
    .filter(|u| !u.is_deleted())
    .ok_or_else(user_not_found)?;
    if user.locked_at(Utc::now()) {
        return Err(suspended(
            "Account is temporarily locked due to too many failed login attempts",
        ));
    }
    let ok = services
        .hasher
        .verify(password, user.password_hash.as_deref())
        .await
        .map_err(hashing)?;
    if !ok {
        fail(
            platform,
            &user,
            client,
            AuditAction::LOGIN_FAILED,
            "invalid_password_account_delete",
        )
        .await?;
        return Err(invalid_credentials());
    }
    let event = client
        .event(AuditAction::USER_SELF_DELETED)
        .actor(user.id)
        .resource("user", Some(user.id))
        .details(serde_json::json!({ "email": user.email }));
    delete_user(platform, &user, event).await
}
