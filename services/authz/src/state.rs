//! Per-application state of the authz service, built on the first request that needs it:
//! the mailer (invitation mail), the m2m client cache (with its NATS invalidation listener)
//! and the failed-secret throttle of `POST /oauth/token`.
//!
//! One [`Shared`] is created by [`crate::api::api`] and cloned into the API structs that need
//! it, so several applications in one process (tests) never share state.

use std::sync::{Arc, OnceLock};

use auth_host::Platform;
use auth_mail::Mailer;

use crate::clients::ClientCache;
use crate::domain::secret::SecretKey;
use crate::throttle::Throttle;

/// The keys of the m2m secret hashes, derived once.
#[derive(Debug)]
pub struct SecretKeys {
    /// Under `JWT_ACCESS_SECRET` (new hashes, and the one a grant is cached under).
    pub current: SecretKey,
    /// Under `JWT_ACCESS_SECRET_PREVIOUS` (verified once, then replaced).
    pub previous: Option<SecretKey>,
}

/// The services behind [`Shared`].
#[derive(Debug)]
pub struct Services {
    /// Outgoing mail (SMTP, or the log without it).
    pub mailer: Mailer,
    /// Recently used m2m clients (bounded staleness; invalidated over NATS on revoke).
    pub clients: Arc<ClientCache>,
    /// Failed client authentications per client id and source address (M2M-07).
    pub throttle: Throttle,
    /// Secret-hash keys.
    pub keys: SecretKeys,
}

impl Services {
    fn build(platform: &Platform) -> Self {
        let clients = Arc::new(ClientCache::new());
        ClientCache::listen(&clients, platform);
        Self {
            mailer: Mailer::from_settings(&platform.settings),
            clients,
            throttle: Throttle::new(platform.cache.clone()),
            keys: SecretKeys {
                current: SecretKey::derive(platform.settings.jwt.access_secret.expose()),
                previous: platform
                    .settings
                    .jwt
                    .access_secret_previous
                    .as_ref()
                    .map(|p| SecretKey::derive(p.expose())),
            },
        }
    }
}

/// Lazily built [`Services`], shared by the API structs of one application.
#[derive(Clone, Debug, Default)]
pub struct Shared(Arc<OnceLock<Arc<Services>>>);

impl Shared {
    /// The services, built from `platform` on first use.
    pub fn get(&self, platform: &Platform) -> Arc<Services> {
        self.0
            .get_or_init(|| Arc::new(Services::build(platform)))
            .clone()
    }
}
