//! Providers without ID tokens: GitHub (`/user`, then the primary verified address from
//! `/user/emails`; keyed by the numeric id, never the renamable `login`, SSO-11), Facebook
//! (Graph `/me`; its email is not treated as verified) and LinkedIn (OpenID user-info).

use auth_edge::ApiError;
use auth_settings::Settings;
use serde::Deserialize;
use serde_json::Value;

use super::oidc::strict_verified;
use super::{ExternalIdentity, Kind, Provider, http, provider_error};

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The identity behind `access_token` at `provider`'s user-info API.
pub async fn identity(
    settings: &Settings,
    provider: &Provider,
    access_token: &str,
) -> Result<ExternalIdentity, ApiError> {
    let timeout = settings.sso.http_timeout;
    let url = provider
        .userinfo_url
        .as_deref()
        .ok_or_else(|| provider_error("no user-info URL"))?;
    match provider.kind {
        Kind::GitHub => {
            let user: GitHubUser = http::get_json(timeout, url, Some(access_token)).await?;
            let emails_url = provider
                .emails_url
                .as_deref()
                .ok_or_else(|| provider_error("no emails URL"))?;
            let emails: Vec<GitHubEmail> =
                http::get_json(timeout, emails_url, Some(access_token)).await?;
            let primary = emails.iter().find(|e| e.primary);
            let (first, last) = split_name(user.name.as_deref());
            Ok(ExternalIdentity {
                subject: user.id.to_string(),
                email: primary.map(|e| e.email.clone()),
                email_verified: primary.is_some_and(|e| e.verified),
                first_name: first,
                last_name: last,
                display_name: user.name,
                avatar_url: user.avatar_url,
            })
        }
        Kind::Facebook => {
            let v: Value = http::get_json(timeout, url, Some(access_token)).await?;
            let id = text(&v, "id").ok_or_else(|| provider_error("Facebook reply without id"))?;
            let avatar = v
                .pointer("/picture/data/url")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok(ExternalIdentity {
                subject: id,
                email: text(&v, "email"),
                email_verified: false,
                first_name: text(&v, "first_name"),
                last_name: text(&v, "last_name"),
                display_name: text(&v, "name"),
                avatar_url: avatar,
            })
        }
        _ => {
            let v: Value = http::get_json(timeout, url, Some(access_token)).await?;
            let sub = text(&v, "sub").ok_or_else(|| provider_error("user-info without sub"))?;
            Ok(ExternalIdentity {
                subject: sub,
                email: text(&v, "email"),
                email_verified: strict_verified(v.get("email_verified")),
                first_name: text(&v, "given_name"),
                last_name: text(&v, "family_name"),
                display_name: text(&v, "name"),
                avatar_url: text(&v, "picture"),
            })
        }
    }
}

/// "Ada King Lovelace" → ("Ada", "King Lovelace").
#[must_use]
pub fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return (None, None);
    };
    match name.split_once(char::is_whitespace) {
        Some((first, rest)) => (Some(first.to_owned()), Some(rest.trim().to_owned())),
        None => (Some(name.to_owned()), None),
    }
}
