//! Per-application state built from the platform's settings on first use: the password
//! hasher pool and the mailer. One [`Shared`] is created by [`crate::api::api`] and cloned
//! into every API struct, so two applications in one process never share it.

use std::sync::{Arc, OnceLock};

use auth_host::Platform;
use auth_mail::Mailer;
use auth_settings::Settings;

use crate::domain::totp_seal::TotpSealer;
use crate::flows::cognito::CognitoClient;
use crate::hasher::PasswordHasher;

/// What the identity handlers share besides the [`Platform`].
#[derive(Debug)]
pub struct Services {
    /// bcrypt on the bounded blocking pool.
    pub hasher: PasswordHasher,
    /// Outgoing mail (SMTP or the log).
    pub mailer: Mailer,
    /// Encrypts TOTP seeds at rest (MFA-08).
    pub totp: TotpSealer,
    /// The Cognito bridge's client, only when `COGNITO_AUTO_MIGRATE_ENABLED=true`.
    pub cognito: Option<CognitoClient>,
}

impl Services {
    /// Builds the services from the settings; a mailer that cannot be built falls back to
    /// the log (logged once as an error).
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        let mailer = Mailer::from_settings(settings);
        let cognito = settings
            .cognito
            .auto_migrate_enabled
            .then(|| CognitoClient::new(&settings.cognito))
            .and_then(|built| {
                built
                    .inspect_err(|e| tracing::error!(error = %e, "cognito bridge unusable"))
                    .ok()
            });
        Self {
            hasher: PasswordHasher::per_core(settings.auth.bcrypt_cost),
            mailer,
            totp: totp_sealer(settings),
            cognito,
        }
    }
}

/// The TOTP seed sealer: `TOTP_ENCRYPTION_KEY` seals when set, else `JWT_ACCESS_SECRET`
/// (each through its own key derivation); the previous TOTP key and both JWT access secrets
/// still open older seeds, which are re-sealed on their next use.
#[must_use]
pub fn totp_sealer(settings: &Settings) -> TotpSealer {
    let auth = &settings.auth;
    let jwt = &settings.jwt;
    let sealing = auth
        .totp_encryption_key
        .as_ref()
        .unwrap_or(&jwt.access_secret);
    let older = [
        auth.totp_encryption_key_previous.as_ref(),
        Some(&jwt.access_secret),
        jwt.access_secret_previous.as_ref(),
    ];
    TotpSealer::from_masters(
        sealing.expose(),
        older.into_iter().flatten().map(|s| s.expose()),
    )
}

/// Lazily built [`Services`], shared by the API structs of one application.
#[derive(Clone, Debug, Default)]
pub struct Shared(Arc<OnceLock<Arc<Services>>>);

impl Shared {
    /// The services of this application (built from `platform`'s settings the first time).
    #[must_use]
    pub fn services(&self, platform: &Platform) -> Arc<Services> {
        self.0
            .get_or_init(|| {
                let services = Arc::new(Services::from_settings(&platform.settings));
                let hasher = services.hasher.clone();
                tokio::spawn(async move {
                    if let Err(e) = hasher.warm_up().await {
                        tracing::warn!(error = %e, "dummy password hash not precomputed");
                    }
                });
                services
            })
            .clone()
    }
}
