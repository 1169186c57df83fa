//! The `user.registered` event of contract §5.9: which of an app's webhooks get it, and the
//! JSON each one receives (the full event, or a `{"text": ...}` summary for Slack URLs).

use auth_tokens::AppScope;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::repo::orgs::OrgRow;
use crate::repo::users::UserRow;

/// The only event apps can subscribe to.
pub const USER_REGISTERED: &str = "user.registered";

/// One entry of `apps.webhooks` (`{name?, url, events[], enabled}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Hook {
    /// Label.
    #[serde(default)]
    pub name: Option<String>,
    /// Absolute http(s) URL.
    pub url: String,
    /// Subscribed events.
    #[serde(default)]
    pub events: Vec<String>,
    /// Whether it is called (absent = true, as the admin API stores it).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// The enabled hooks of `webhooks` (the `apps.webhooks` JSON) that subscribe to `event` and
/// have an http(s) URL. Malformed entries are skipped.
#[must_use]
pub fn subscribed(webhooks: &Value, event: &str) -> Vec<Hook> {
    let Some(items) = webhooks.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| serde_json::from_value::<Hook>(item.clone()).ok())
        .filter(|h| h.enabled && h.events.iter().any(|e| e == event))
        .filter(|h| is_http_url(&h.url))
        .collect()
}

fn is_http_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Whether `url` is a Slack incoming webhook (it gets a `{"text": ...}` summary).
#[must_use]
pub fn is_slack(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or_default();
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    host == "hooks.slack.com"
}

/// What a registration tells its app's webhooks.
#[derive(Debug)]
pub struct Registered<'a> {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The app whose policy applied.
    pub app: &'a AppScope,
    /// The new user.
    pub user: &'a UserRow,
    /// The user's home pool.
    pub namespace: &'a str,
    /// Home pool plus the pools the user was tagged into.
    pub pools: Vec<String>,
    /// The organisation created or joined.
    pub organization: Option<&'a OrgRow>,
    /// The request body minus `password` (unknown fields included).
    pub registration: &'a Map<String, Value>,
    /// Client address.
    pub ip: Option<&'a str>,
    /// Client `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// The host the request was addressed to.
    pub server: Option<&'a str>,
}

impl Registered<'_> {
    /// The full event body.
    #[must_use]
    pub fn body(&self) -> Value {
        let user = self.user;
        let mut body = json!({
            "event": USER_REGISTERED,
            "timestamp": self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "app": {"id": self.app.id, "code": self.app.code, "name": self.app.name},
            "user": {
                "id": user.id,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "display_name": user.display_name,
                "namespace": self.namespace,
                "pools": self.pools,
            },
            "registration": self.registration,
            "context": {"ip": self.ip, "user_agent": self.user_agent, "server": self.server},
        });
        if let (Some(org), Some(obj)) = (self.organization, body.as_object_mut()) {
            obj.insert(
                "organization".to_owned(),
                json!({"id": org.id, "slug": org.slug, "name": org.name}),
            );
        }
        body
    }

    /// The Slack summary: `{"text": ...}`.
    #[must_use]
    pub fn slack_body(&self) -> Value {
        let u = self.user;
        let mut text = format!(
            "New user registered in {} ({}): {} {} <{}>",
            self.app.name, self.app.code, u.first_name, u.last_name, u.email
        );
        if let Some(org) = self.organization {
            text.push_str(&format!(", organization {}", org.name));
        }
        json!({ "text": text })
    }

    /// The body `hook` receives.
    #[must_use]
    pub fn body_for(&self, hook: &Hook) -> Value {
        if is_slack(&hook.url) {
            self.slack_body()
        } else {
            self.body()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribed_hooks_are_enabled_http_and_on_the_event() {
        let hooks = json!([
            {"url": "https://a.example/h", "events": ["user.registered"], "enabled": true},
            {"url": "https://b.example/h", "events": ["user.registered"]},
            {"url": "https://c.example/h", "events": ["user.registered"], "enabled": false},
            {"url": "https://d.example/h", "events": ["other"]},
            {"url": "ftp://e.example/h", "events": ["user.registered"]},
            {"events": ["user.registered"]},
            "junk"
        ]);
        let urls: Vec<String> = subscribed(&hooks, USER_REGISTERED)
            .into_iter()
            .map(|h| h.url)
            .collect();
        assert_eq!(urls, ["https://a.example/h", "https://b.example/h"]);
        assert!(subscribed(&Value::Null, USER_REGISTERED).is_empty());
    }

    #[test]
    fn slack_urls_by_host() {
        assert!(is_slack("https://hooks.slack.com/services/T/B/X"));
        assert!(is_slack("HTTPS://HOOKS.SLACK.COM/x"));
        assert!(!is_slack("https://hooks.slack.com.evil.example/x"));
        assert!(!is_slack("https://example.com/hooks.slack.com"));
    }
}
