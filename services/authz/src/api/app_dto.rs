//! App DTOs: the contract's AppRecord and the bodies of `POST`/`PATCH /admin/apps`.

use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;

use super::common::{ts, ts_opt};
use crate::repo::apps::AppRow;

/// A webhook called on app events (`user.registered`).
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Webhook {
    /// Label.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absolute http(s) URL.
    pub url: String,
    /// Events delivered (`user.registered`).
    pub events: Vec<String>,
    /// Whether it is called (default true).
    #[oai(default = "default_true")]
    pub enabled: bool,
}

fn default_true() -> bool {
    true
}

/// An app (the contract's AppRecord).
#[derive(Debug, Object)]
pub struct AppRecord {
    /// Row id.
    pub id: String,
    /// Immutable unique code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Redirect URLs allowed for this app.
    pub allowed_redirect_urls: Vec<String>,
    /// Permission services its tokens carry besides `core` (§9.4).
    pub service_codes: Vec<String>,
    /// Grant access on first contact.
    pub auto_grant_on_signup: bool,
    /// `active`, `inactive` or `suspended`.
    pub status: String,
    /// Email domains allowed to register (empty = any).
    pub allowed_email_domains: Vec<String>,
    /// Auth methods allowed (empty = any).
    pub allowed_auth_methods: Vec<String>,
    /// Organisation new users join.
    #[oai(skip_serializing_if_is_none)]
    pub default_organization_id: Option<String>,
    /// Front-end base URL (email links).
    #[oai(skip_serializing_if_is_none)]
    pub frontend_url: Option<String>,
    /// Home pool of users registered through the app.
    #[oai(skip_serializing_if_is_none)]
    pub registration_namespace: Option<String>,
    /// Legacy list form of `registration_namespace`.
    pub registration_namespaces: Vec<String>,
    /// Pools searched at login.
    pub read_namespaces: Vec<String>,
    /// Webhooks.
    pub webhooks: Vec<serde_json::Value>,
    /// Role given in the default organisation (`org_member` when unset).
    #[oai(skip_serializing_if_is_none)]
    pub default_role_code: Option<String>,
    /// Apps granted together with this one.
    pub linked_app_codes: Vec<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Soft-delete time.
    #[oai(skip_serializing_if_is_none)]
    pub deleted_at: Option<String>,
}

impl From<AppRow> for AppRecord {
    fn from(r: AppRow) -> Self {
        let webhooks = match r.webhooks {
            serde_json::Value::Array(items) => items,
            _ => Vec::new(),
        };
        Self {
            id: r.id.to_string(),
            code: r.code,
            name: r.name,
            description: r.description.unwrap_or_default(),
            allowed_redirect_urls: r.allowed_redirect_urls,
            service_codes: r.service_codes,
            auto_grant_on_signup: r.auto_grant_on_signup,
            status: r.status,
            allowed_email_domains: r.allowed_email_domains,
            allowed_auth_methods: r.allowed_auth_methods,
            default_organization_id: r.default_organization_id.map(|u| u.to_string()),
            frontend_url: r.frontend_url,
            registration_namespace: r.registration_namespace,
            registration_namespaces: r.registration_namespaces,
            read_namespaces: r.read_namespaces,
            webhooks,
            default_role_code: r.default_role_code,
            linked_app_codes: r.linked_app_codes,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            deleted_at: ts_opt(r.deleted_at),
        }
    }
}

impl AppRecord {
    /// The record with `webhooks` emptied, for callers who are not app admins (webhook URLs
    /// often embed a secret).
    #[must_use]
    pub fn without_webhooks(mut self) -> Self {
        self.webhooks = Vec::new();
        self
    }
}

/// `{apps: [AppRecord]}`.
#[derive(Debug, Object)]
pub struct AppList {
    /// The apps.
    pub apps: Vec<AppRecord>,
}

/// Body of `POST /admin/apps`.
#[derive(Debug, Object)]
pub struct CreateApp {
    /// Unique, immutable, ≤ 100 of `[A-Za-z0-9._-]`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Redirect URLs allowed for this app.
    pub allowed_redirect_urls: Option<Vec<String>>,
    /// Permission services (default `[code]`).
    pub service_codes: Option<Vec<String>>,
    /// Grant on first contact (default false).
    pub auto_grant_on_signup: Option<bool>,
    /// Email domains allowed to register.
    pub allowed_email_domains: Option<Vec<String>>,
    /// Auth methods allowed (`password`, `google`, ...).
    pub allowed_auth_methods: Option<Vec<String>>,
    /// Organisation new users join.
    pub default_organization_id: Option<String>,
    /// Front-end base URL.
    pub frontend_url: Option<String>,
    /// Home pool of new users.
    pub registration_namespace: Option<String>,
    /// Legacy list form of the home pool.
    pub registration_namespaces: Option<Vec<String>>,
    /// Pools searched at login.
    pub read_namespaces: Option<Vec<String>>,
    /// Webhooks.
    pub webhooks: Option<Vec<Webhook>>,
    /// Org-scoped role given in the default organisation (needs `default_organization_id`).
    pub default_role_code: Option<String>,
    /// Apps granted together with this one.
    pub linked_app_codes: Option<Vec<String>>,
    /// `active` (default), `inactive` or `suspended`.
    pub status: Option<String>,
}

/// Body of `PATCH /admin/apps/{appId}`: any field but `code`; `""` clears `frontend_url`,
/// `default_organization_id` and `default_role_code`; a non-null `webhooks` replaces the list.
#[derive(Debug, Object)]
pub struct PatchApp {
    /// Must equal the current code when sent (codes are immutable).
    pub code: MaybeUndefined<String>,
    /// Display name.
    pub name: MaybeUndefined<String>,
    /// Free text.
    pub description: MaybeUndefined<String>,
    /// Redirect URLs.
    pub allowed_redirect_urls: MaybeUndefined<Vec<String>>,
    /// Permission services.
    pub service_codes: MaybeUndefined<Vec<String>>,
    /// Grant on first contact.
    pub auto_grant_on_signup: MaybeUndefined<bool>,
    /// Email domains allowed to register.
    pub allowed_email_domains: MaybeUndefined<Vec<String>>,
    /// Auth methods allowed.
    pub allowed_auth_methods: MaybeUndefined<Vec<String>>,
    /// Organisation new users join (`""` clears).
    pub default_organization_id: MaybeUndefined<String>,
    /// Front-end base URL (`""` clears).
    pub frontend_url: MaybeUndefined<String>,
    /// Home pool of new users.
    pub registration_namespace: MaybeUndefined<String>,
    /// Legacy list form of the home pool.
    pub registration_namespaces: MaybeUndefined<Vec<String>>,
    /// Pools searched at login.
    pub read_namespaces: MaybeUndefined<Vec<String>>,
    /// Webhooks (replaces the list).
    pub webhooks: MaybeUndefined<Vec<Webhook>>,
    /// Role in the default organisation (`""` clears).
    pub default_role_code: MaybeUndefined<String>,
    /// Apps granted together with this one.
    pub linked_app_codes: MaybeUndefined<Vec<String>>,
    /// `active`, `inactive` or `suspended`.
    pub status: MaybeUndefined<String>,
}
