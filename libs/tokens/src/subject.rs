//! Who a token pair is issued to and from where: plain input types of issuance.

use uuid::Uuid;

/// The user fields that access tokens carry (read from `users` by the caller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserIdentity {
    /// User id (`sub`, `uid`).
    pub id: Uuid,
    /// Email address.
    pub email: String,
    /// First name (omitted from the token when empty).
    pub first_name: String,
    /// Last name (omitted when empty).
    pub last_name: String,
    /// Display name (omitted when empty).
    pub display_name: String,
    /// `users.auth_provider`: `local`, `google`, ...
    pub auth_provider: String,
    /// Home pool (`users.namespace`); the claim is omitted for `default`.
    pub namespace: String,
    /// `users.token_version` at issue (the `tv` claim, omitted when 0).
    pub token_version: i64,
}

/// The admin acting as the user (`imp_uid`, `imp_email` claims).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impersonator {
    /// The admin's user id.
    pub user_id: Uuid,
    /// The admin's email.
    pub email: String,
}

/// The client a pair is issued to, as stored on the refresh and session rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Client IP address (at most 45 characters are stored; longer values are dropped).
    pub ip: Option<String>,
    /// `User-Agent` header (also stored as `device_info`).
    pub user_agent: Option<String>,
}

/// Longest value the `ip_address` columns (`varchar(45)`) hold.
const MAX_IP_LEN: usize = 45;

impl DeviceInfo {
    /// The IP as stored: `None` when absent, blank or too long for the column.
    #[must_use]
    pub fn stored_ip(&self) -> Option<&str> {
        self.ip
            .as_deref()
            .map(str::trim)
            .filter(|ip| !ip.is_empty() && ip.len() <= MAX_IP_LEN)
    }

    /// The user agent as stored: `None` when absent or blank.
    #[must_use]
    pub fn stored_user_agent(&self) -> Option<&str> {
        self.user_agent
            .as_deref()
            .filter(|ua| !ua.trim().is_empty())
    }
}
