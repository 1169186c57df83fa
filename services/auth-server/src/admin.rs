//! `create-admin`: the first `system_admin`, from `ADMIN_EMAIL` / `ADMIN_PASSWORD`.

use anyhow::Context as _;
use auth_settings::Settings;
use identity::bootstrap::{Bootstrap, ensure_system_admin};
use rand::Rng as _;
use rand::distr::Alphanumeric;

/// Default email of the first administrator.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@example.com";

/// Creates (or promotes) the first admin; returns a one-line description for the operator,
/// including the password when it was generated here.
pub async fn create_admin(settings: &Settings) -> anyhow::Result<String> {
    let email = std::env::var("ADMIN_EMAIL").unwrap_or_else(|_| DEFAULT_ADMIN_EMAIL.to_owned());
    let (password, generated) = match std::env::var("ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (generate_password(), true),
    };
    if password.len() > 72 {
        anyhow::bail!("ADMIN_PASSWORD must be at most 72 bytes (bcrypt)");
    }
    let cost = settings.auth.bcrypt_cost;
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(to_hash, cost))
        .await
        .context("hashing task")?
        .context("hashing the admin password")?;
    let db = auth_db::connect(&auth_db::DbConfig::from_url(settings.database.url.expose()))
        .await
        .context("postgres settings")?;
    auth_db::migrate(&db).await.context("applying migrations")?;
    let outcome = ensure_system_admin(&db, &email, &hash, "System", "Admin")
        .await
        .context("creating the admin")?;
    Ok(match outcome {
        Bootstrap::Created(_) if generated => {
            format!("admin      {email} / {password} (generated; shown once)")
        }
        Bootstrap::Created(_) => format!("admin      {email} (password from ADMIN_PASSWORD)"),
        Bootstrap::Existing(_) => {
            format!("admin      {email} (existing system_admin, password unchanged)")
        }
        Bootstrap::NotAnAdmin(_) => anyhow::bail!(
            "ADMIN_EMAIL {email} belongs to an existing account that is not a system_admin; \
             choose another ADMIN_EMAIL"
        ),
    })
}

/// 24 characters with upper, lower and digit classes (the default password policy).
fn generate_password() -> String {
    let body: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(21)
        .map(char::from)
        .collect();
    format!("Aa1{body}")
}
