//! From a published [`AuditEvent`] to the values of one `audit_log` row: text that Postgres
//! could refuse is made storable, and long values are cut to documented lengths (AUD-07), so a
//! single odd event can never block the stream.

use auth_bus::AuditEvent;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest stored `ip_address` (the column is `varchar(45)`), in characters.
pub const MAX_IP_CHARS: usize = 45;
/// Longest stored `resource_type` (the column is `varchar(100)`), in characters.
pub const MAX_RESOURCE_TYPE_CHARS: usize = 100;
/// Longest stored `user_agent`, in characters (our limit; longer values are cut).
pub const MAX_USER_AGENT_CHARS: usize = 1024;

/// The values of one `audit_log` row written by the consumer (`id` = `event_id` = event id).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Event id.
    pub id: Uuid,
    /// The actor.
    pub user_id: Option<Uuid>,
    /// The organisation concerned.
    pub organization_id: Option<Uuid>,
    /// Event name.
    pub action: String,
    /// Kind of the resource acted on.
    pub resource_type: Option<String>,
    /// Id of the resource acted on.
    pub resource_id: Option<Uuid>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Event details as JSON text.
    pub details: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

impl AuditRecord {
    /// The storable row for `event`.
    pub fn from_event(event: AuditEvent) -> Self {
        Self {
            id: event.id,
            user_id: event.user_id,
            organization_id: event.organization_id,
            action: event.action.as_str().to_owned(),
            resource_type: event
                .resource_type
                .map(|s| storable(&s, MAX_RESOURCE_TYPE_CHARS)),
            resource_id: event.resource_id,
            ip_address: event.ip_address.map(|s| storable(&s, MAX_IP_CHARS)),
            user_agent: event.user_agent.map(|s| storable(&s, MAX_USER_AGENT_CHARS)),
            details: event.details.map(|mut d| {
                strip_nul(&mut d);
                d.to_string()
            }),
            created_at: event.created_at,
        }
    }
}

/// `s` without NUL characters (Postgres text cannot hold them), cut to `max` characters.
pub fn storable(s: &str, max: usize) -> String {
    s.chars().filter(|c| *c != '\0').take(max).collect()
}

/// Removes NUL characters from every string and key of `v` (jsonb refuses `\u0000`).
fn strip_nul(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nul),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(k.replace('\0', ""), v);
                }
            }
            map.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use auth_bus::AuditAction;
    use serde_json::json;

    use super::*;

    #[test]
    fn long_and_nul_values_become_storable() {
        let event = AuditEvent::new(AuditAction::LOGIN_FAILED)
            .client(
                Some("1".repeat(60)),
                Some(format!("a\0b{}", "é".repeat(2000))),
            )
            .resource("x\0".repeat(80), None)
            .details(json!({"k\0": ["v\0", {"n": 1}], "line": "a\r\nb"}));
        let r = AuditRecord::from_event(event.clone());
        assert_eq!(r.id, event.id);
        assert_eq!(r.ip_address.as_deref().map(str::len), Some(MAX_IP_CHARS));
        let ua = r.user_agent.unwrap_or_default();
        assert!(ua.starts_with("abé"));
        assert_eq!(ua.chars().count(), MAX_USER_AGENT_CHARS);
        assert_eq!(r.resource_type.as_deref(), Some("x".repeat(80).as_str()));
        let details: serde_json::Value =
            serde_json::from_str(&r.details.unwrap_or_default()).unwrap_or_default();
        assert_eq!(details, json!({"k": ["v", {"n": 1}], "line": "a\r\nb"}));
    }
}
