//! Reply shapes shared by several operations.

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::Object;

use crate::repo::sessions::SessionRow;

pub use auth_api_types::SuccessBody;

/// A session (contract §2.2 `SessionRecord`).
#[derive(Debug, Object)]
pub struct SessionRecord {
    /// Session id.
    pub id: String,
    /// The raw User-Agent of the device.
    #[oai(skip_serializing_if_is_none)]
    pub device_info: Option<String>,
    /// Client IP at the last activity.
    #[oai(skip_serializing_if_is_none)]
    pub ip_address: Option<String>,
    /// User agent at the last activity.
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    /// Location, when known.
    #[oai(skip_serializing_if_is_none)]
    pub location: Option<String>,
    /// Last login or refresh (RFC 3339).
    pub last_activity_at: String,
    /// Login time (RFC 3339).
    pub created_at: String,
    /// Whether this is the session of the token that asked.
    #[oai(skip_serializing_if_is_none)]
    pub is_current: Option<bool>,
}

impl SessionRecord {
    /// From a row; `current` is the caller's `session_id` claim when `is_current` applies.
    #[must_use]
    pub fn from_row(row: SessionRow, current: Option<&str>) -> Self {
        let id = row.id.to_string();
        let is_current = current.map(|c| c == id);
        Self {
            is_current,
            id,
            device_info: row.device_info,
            ip_address: row.ip_address,
            user_agent: row.user_agent,
            location: row.location,
            last_activity_at: rfc3339(row.last_activity_at),
            created_at: rfc3339(row.created_at),
        }
    }
}

/// The contract's timestamp format: RFC 3339, seconds, UTC `Z`.
#[must_use]
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
