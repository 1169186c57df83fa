//! [`SsoSettings`]: OAuth providers (`SSO_<P>_*`) and the redirect allowlist.

use crate::Secret;
use crate::reader::Env;

/// One OAuth provider's client registration.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SsoProvider {
    /// `SSO_<P>_ENABLED`.
    pub enabled: bool,
    /// `SSO_<P>_CLIENT_ID` (required when enabled).
    pub client_id: String,
    /// `SSO_<P>_CLIENT_SECRET` (required when enabled, except Apple).
    pub client_secret: Option<Secret>,
    /// `SSO_<P>_REDIRECT_URL`: our callback URL registered at the provider.
    pub redirect_url: String,
    /// `SSO_<P>_SCOPES`: comma list.
    pub scopes: Vec<String>,
}

/// Sign in with Apple: the client secret is an ES256 JWT minted from a `.p8` key.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AppleSso {
    /// Common provider fields (`SSO_APPLE_*`).
    pub provider: SsoProvider,
    /// `SSO_APPLE_TEAM_ID`.
    pub team_id: String,
    /// `SSO_APPLE_KEY_ID`.
    pub key_id: String,
    /// `SSO_APPLE_PRIVATE_KEY`: PEM contents of the `.p8` key.
    pub private_key: Option<Secret>,
}

/// All SSO providers.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SsoSettings {
    /// `SSO_GOOGLE_*`.
    pub google: SsoProvider,
    /// `SSO_APPLE_*`.
    pub apple: AppleSso,
    /// `SSO_MICROSOFT_*`.
    pub microsoft: SsoProvider,
    /// `SSO_GITHUB_*`.
    pub github: SsoProvider,
    /// `SSO_FACEBOOK_*`.
    pub facebook: SsoProvider,
    /// `SSO_LINKEDIN_*`.
    pub linkedin: SsoProvider,
    /// `SSO_ALLOWED_REDIRECT_URLS`: exact URLs, or prefixes ending in `*`; empty = allow all.
    pub allowed_redirect_urls: Vec<String>,
}

impl SsoSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let google = provider(env, "GOOGLE", &["openid", "email", "profile"], true);
        let apple = AppleSso {
            provider: provider(env, "APPLE", &["name", "email"], false),
            team_id: env.string("SSO_APPLE_TEAM_ID", ""),
            key_id: env.string("SSO_APPLE_KEY_ID", ""),
            private_key: env.secret("SSO_APPLE_PRIVATE_KEY"),
        };
        if apple.provider.enabled {
            for (var, missing) in [
                ("SSO_APPLE_TEAM_ID", apple.team_id.is_empty()),
                ("SSO_APPLE_KEY_ID", apple.key_id.is_empty()),
                ("SSO_APPLE_PRIVATE_KEY", apple.private_key.is_none()),
            ] {
                if missing {
                    env.problem(var, "is required when SSO_APPLE_ENABLED=true");
                }
            }
        }
        Self {
            google,
            apple,
            microsoft: provider(env, "MICROSOFT", &["openid", "email", "profile"], true),
            github: provider(env, "GITHUB", &["user:email"], true),
            facebook: provider(env, "FACEBOOK", &["email", "public_profile"], true),
            linkedin: provider(env, "LINKEDIN", &["openid", "profile", "email"], true),
            allowed_redirect_urls: env.list("SSO_ALLOWED_REDIRECT_URLS", &[]),
        }
    }

    /// The enabled providers by lower-case name (`google`, `apple`, ...).
    pub fn enabled(&self) -> Vec<(&'static str, &SsoProvider)> {
        [
            ("google", &self.google),
            ("apple", &self.apple.provider),
            ("microsoft", &self.microsoft),
            ("github", &self.github),
            ("facebook", &self.facebook),
            ("linkedin", &self.linkedin),
        ]
        .into_iter()
        .filter(|(_, p)| p.enabled)
        .collect()
    }
}

fn provider(env: &mut Env, name: &str, scopes: &[&str], needs_secret: bool) -> SsoProvider {
    let var = |suffix: &str| format!("SSO_{name}_{suffix}");
    let enabled_var = var("ENABLED");
    let p = SsoProvider {
        enabled: env.flag(&enabled_var, false),
        client_id: env.string(&var("CLIENT_ID"), ""),
        client_secret: env.secret(&var("CLIENT_SECRET")),
        redirect_url: env.string(&var("REDIRECT_URL"), ""),
        scopes: env.list(&var("SCOPES"), scopes),
    };
    if p.enabled {
        let checks = [
            ("CLIENT_ID", p.client_id.is_empty()),
            ("REDIRECT_URL", p.redirect_url.is_empty()),
            ("CLIENT_SECRET", needs_secret && p.client_secret.is_none()),
        ];
        for (suffix, missing) in checks {
            if missing {
                env.problem(&var(suffix), format!("is required when {enabled_var}=true"));
            }
        }
        if !p.redirect_url.is_empty() && !crate::reader::is_http_url(&p.redirect_url) {
            let msg = format!(
                "must be an http:// or https:// URL, got {:?}",
                p.redirect_url
            );
            env.problem(&var("REDIRECT_URL"), msg);
        }
    }
    p
}
