//! The identity API: one poem-openapi struct per tag, combined in [`Api`]. Every struct
//! holds the application's [`Shared`] state (hasher pool, mailer).

mod account;
mod admin_actions;
mod admin_users;
pub mod dto;
mod login;
mod magic_link;
mod me;
mod namespaces;
mod password;
mod register;
mod sso;
mod two_factor;

pub use account::AccountApi;
pub use admin_actions::AdminActionsApi;
pub use admin_users::AdminUsersApi;
pub use login::LoginApi;
pub use magic_link::MagicLinkApi;
pub use me::MeApi;
pub use namespaces::NamespacesApi;
pub use password::PasswordApi;
pub use register::RegisterApi;
pub use sso::SsoApi;
pub use two_factor::TwoFactorApi;

use poem_openapi::Tags;

use crate::state::Shared;

/// OpenAPI tags of this service.
#[derive(Tags)]
pub enum ApiTags {
    /// Registration, login, the caller, passwords, email, 2FA, magic links, SSO.
    Auth,
    /// User administration and pools.
    Admin,
}

/// Every API struct of the identity service.
pub type Api = (
    (MeApi, LoginApi),
    (RegisterApi, PasswordApi),
    (TwoFactorApi, MagicLinkApi, AccountApi),
    (AdminUsersApi, AdminActionsApi, NamespacesApi),
    SsoApi,
);

/// The identity API value (fresh per-application state).
pub fn api() -> Api {
    let shared = Shared::default();
    (
        (
            MeApi,
            LoginApi {
                shared: shared.clone(),
            },
        ),
        (
            RegisterApi {
                shared: shared.clone(),
            },
            PasswordApi {
                shared: shared.clone(),
            },
        ),
        (
            TwoFactorApi {
                shared: shared.clone(),
            },
            MagicLinkApi {
                shared: shared.clone(),
            },
            AccountApi { shared },
        ),
        (AdminUsersApi, AdminActionsApi, NamespacesApi),
        SsoApi,
    )
}
