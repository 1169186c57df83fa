//! Audit events: the action name newtype and the event written to the outbox.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{BusError, Result};

/// Longest accepted action name (`audit_log.action` is `varchar(100)`).
pub const MAX_ACTION_LEN: usize = 100;

/// A dotted audit action name such as `login.success` (contract §7.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AuditAction(Cow<'static, str>);

macro_rules! actions {
    ($($(#[$m:meta])* $name:ident = $value:literal;)*) => {
        impl AuditAction {
            $($(#[$m])* pub const $name: AuditAction = AuditAction(Cow::Borrowed($value));)*
            /// Every action named in contract §7.3.
            pub const CONTRACT: &'static [AuditAction] = &[$(Self::$name),*];
        }
    };
}

actions! {
    /// `login.success`
    LOGIN_SUCCESS = "login.success";
    /// `login.failed`
    LOGIN_FAILED = "login.failed";
    /// `login.rate_limited_account`
    LOGIN_RATE_LIMITED_ACCOUNT = "login.rate_limited_account";
    /// `login.legacy_migration_conflict`
    LOGIN_LEGACY_MIGRATION_CONFLICT = "login.legacy_migration_conflict";
    /// `2fa.setup_started`
    TWO_FA_SETUP_STARTED = "2fa.setup_started";
    /// `2fa.enabled`
    TWO_FA_ENABLED = "2fa.enabled";
    /// `2fa.disabled`
    TWO_FA_DISABLED = "2fa.disabled";
    /// `2fa.failed`
    TWO_FA_FAILED = "2fa.failed";
    /// `2fa.verified`
    TWO_FA_VERIFIED = "2fa.verified";
    /// `password.change`
    PASSWORD_CHANGE = "password.change";
    /// `password.reset`
    PASSWORD_RESET = "password.reset";
    /// `logout.all`
    LOGOUT_ALL = "logout.all";
    /// `refresh.reuse_detected`
    REFRESH_REUSE_DETECTED = "refresh.reuse_detected";
    /// `refresh.idle_timeout`
    REFRESH_IDLE_TIMEOUT = "refresh.idle_timeout";
    /// `magic_link.requested`
    MAGIC_LINK_REQUESTED = "magic_link.requested";
    /// `magic_link.request_unknown`
    MAGIC_LINK_REQUEST_UNKNOWN = "magic_link.request_unknown";
    /// `magic_link.email_failed`
    MAGIC_LINK_EMAIL_FAILED = "magic_link.email_failed";
    /// `magic_link.consumed`
    MAGIC_LINK_CONSUMED = "magic_link.consumed";
    /// `user.migrated_from_legacy`
    USER_MIGRATED_FROM_LEGACY = "user.migrated_from_legacy";
    /// `user.bulk_imported`
    USER_BULK_IMPORTED = "user.bulk_imported";
    /// `user.app_provisioned`
    USER_APP_PROVISIONED = "user.app_provisioned";
    /// `user.app_provisioning_failed`
    USER_APP_PROVISIONING_FAILED = "user.app_provisioning_failed";
    /// `user.impersonation_started`
    USER_IMPERSONATION_STARTED = "user.impersonation_started";
    /// `user.impersonation_failed`
    USER_IMPERSONATION_FAILED = "user.impersonation_failed";
    /// `user.hard_deleted`
    USER_HARD_DELETED = "user.hard_deleted";
    /// `user.self_deleted`
    USER_SELF_DELETED = "user.self_deleted";
}

impl AuditAction {
    /// Accepts any later action name: 1..=100 bytes of `[a-z0-9_-]` segments joined by dots.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        if is_valid_action(&name) {
            Ok(Self(Cow::Owned(name)))
        } else {
            Err(BusError::InvalidAction(name))
        }
    }

    /// The dotted name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outbox topic for this action: `audit.<action>`.
    pub fn topic(&self) -> String {
        format!("audit.{}", self.0)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AuditAction {
    type Error = BusError;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<AuditAction> for String {
    fn from(a: AuditAction) -> Self {
        a.0.into_owned()
    }
}

/// Whether `name` is usable as an action (and so as a NATS subject suffix).
pub(crate) fn is_valid_action(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ACTION_LEN
        && name.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
}

/// One audit event, as written to the outbox and published on `audit.<action>`;
/// field names match the `audit_log` columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Event id: outbox row id, `Nats-Msg-Id`, and `audit_log.id`.
    pub id: Uuid,
    /// What happened.
    pub action: AuditAction,
    /// The actor, if known.
    pub user_id: Option<Uuid>,
    /// The organization concerned, if any.
    pub organization_id: Option<Uuid>,
    /// Kind of the resource acted on, if any.
    pub resource_type: Option<String>,
    /// Id of the resource acted on, if any.
    pub resource_id: Option<Uuid>,
    /// Client IP (from the trusted header only).
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Free-form details; `subject_user_id` when the subject is not the actor.
    pub details: Option<serde_json::Value>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

impl AuditEvent {
    /// A new event with a fresh v4 id, stamped now.
    pub fn new(action: AuditAction) -> Self {
        Self::at(action, Utc::now())
    }

    /// A new event with a fresh v4 id and an explicit time (for injected clocks).
    pub fn at(action: AuditAction, created_at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            action,
            user_id: None,
            organization_id: None,
            resource_type: None,
            resource_id: None,
            ip_address: None,
            user_agent: None,
            details: None,
            created_at,
        }
    }

    /// Sets the actor.
    pub fn actor(mut self, user_id: Uuid) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// Sets the organization.
    pub fn organization(mut self, organization_id: Uuid) -> Self {
        self.organization_id = Some(organization_id);
        self
    }

    /// Sets the resource type and id.
    pub fn resource(mut self, resource_type: impl Into<String>, resource_id: Option<Uuid>) -> Self {
        self.resource_type = Some(resource_type.into());
        self.resource_id = resource_id;
        self
    }

    /// Sets the client IP and user agent (empty strings become `None`).
    pub fn client(mut self, ip_address: Option<String>, user_agent: Option<String>) -> Self {
        self.ip_address = ip_address.filter(|s| !s.is_empty());
        self.user_agent = user_agent.filter(|s| !s.is_empty());
        self
    }

    /// Sets the details object.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Records `details.subject_user_id` when `subject` differs from the actor.
    pub fn subject_user(mut self, subject: Uuid) -> Self {
        if self.user_id == Some(subject) {
            return self;
        }
        let value = serde_json::Value::String(subject.to_string());
        match &mut self.details {
            Some(serde_json::Value::Object(map)) => {
                map.insert("subject_user_id".to_owned(), value);
            }
            other => {
                let mut map = serde_json::Map::new();
                if let Some(previous) = other.take() {
                    map.insert("value".to_owned(), previous);
                }
                map.insert("subject_user_id".to_owned(), value);
                *other = Some(serde_json::Value::Object(map));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_actions_are_valid() {
        assert_eq!(AuditAction::CONTRACT.len(), 26);
        for a in AuditAction::CONTRACT {
            assert!(is_valid_action(a.as_str()), "{a}");
        }
        assert_eq!(AuditAction::LOGOUT_ALL.topic(), "audit.logout.all");
    }

    #[test]
    fn bad_actions_are_refused() {
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a b",
            "a.>",
            "a.*",
            "Login",
            &"x".repeat(101),
        ] {
            assert!(AuditAction::new(bad).is_err(), "{bad:?}");
        }
        assert!(AuditAction::new("authz_denied").is_ok());
    }

    #[test]
    fn event_round_trips_and_subject_is_only_added_when_different() {
        let actor = Uuid::new_v4();
        let e = AuditEvent::new(AuditAction::LOGOUT_ALL)
            .actor(actor)
            .subject_user(actor)
            .client(Some(String::new()), Some("ua".into()));
        assert_eq!(e.details, None);
        assert_eq!(e.ip_address, None);
        let other = Uuid::new_v4();
        let e = e.subject_user(other);
        assert_eq!(
            e.details.as_ref().and_then(|d| d.get("subject_user_id")),
            Some(&serde_json::Value::String(other.to_string()))
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["action"], "logout.all");
        let back: AuditEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        assert!(serde_json::from_str::<AuditAction>("\"a b\"").is_err());
    }
}
