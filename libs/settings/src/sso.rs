//! [`SsoSettings`]: OAuth providers (`SSO_<P>_*`), their endpoint overrides, custom OpenID
//! Connect providers (`SSO_CUSTOM_PROVIDERS`) and the redirect allowlist.

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
    /// Endpoint overrides (`SSO_<P>_AUTH_URL`, ...); unset ones use the provider's own.
    pub endpoints: SsoEndpoints,
}

/// Overrides of a provider's endpoints (tests, private deployments, custom providers).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SsoEndpoints {
    /// `SSO_<P>_AUTH_URL`: the authorization endpoint.
    pub auth_url: Option<String>,
    /// `SSO_<P>_TOKEN_URL`: the token endpoint.
    pub token_url: Option<String>,
    /// `SSO_<P>_USERINFO_URL`: the user-info endpoint (GitHub, Facebook, LinkedIn).
    pub userinfo_url: Option<String>,
    /// `SSO_<P>_EMAILS_URL`: GitHub's `/user/emails`.
    pub emails_url: Option<String>,
    /// `SSO_<P>_JWKS_URL`: the key set that signs ID tokens.
    pub jwks_url: Option<String>,
    /// `SSO_<P>_ISSUER`: the expected ID-token `iss` (and, for custom providers, the base
    /// of `/.well-known/openid-configuration` discovery).
    pub issuer: Option<String>,
}

/// A custom OpenID Connect provider named in `SSO_CUSTOM_PROVIDERS`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CustomSso {
    /// Lower-case provider code (`acme`), as clients send it in `provider`.
    pub code: String,
    /// `SSO_<CODE>_NAME`: display label (default: the code).
    pub label: String,
    /// `SSO_<CODE>_*` (enabled by default; `_ISSUER` required).
    pub provider: SsoProvider,
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
    /// `SSO_CUSTOM_PROVIDERS` and each one's `SSO_<CODE>_*`.
    pub custom: Vec<CustomSso>,
    /// `SSO_ALLOWED_REDIRECT_URLS`: exact URLs, or prefixes ending in `*`; empty = allow all.
    pub allowed_redirect_urls: Vec<String>,
    /// `SSO_HTTP_TIMEOUT`: bound on each call to a provider (default 10s).
    pub http_timeout: std::time::Duration,
}

/// The built-in provider codes.
pub const BUILTIN_PROVIDERS: &[&str] = &[
    "google",
    "apple",
    "microsoft",
    "github",
    "facebook",
    "linkedin",
];

impl SsoSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let google = provider(env, "GOOGLE", &["openid", "email", "profile"], true, false);
        let apple = AppleSso {
            provider: provider(env, "APPLE", &["name", "email"], false, false),
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
            microsoft: provider(
                env,
                "MICROSOFT",
                &["openid", "email", "profile"],
                true,
                false,
            ),
            github: provider(env, "GITHUB", &["user:email"], true, false),
            facebook: provider(env, "FACEBOOK", &["email", "public_profile"], true, false),
            linkedin: provider(
                env,
                "LINKEDIN",
                &["openid", "profile", "email"],
                true,
                false,
            ),
            custom: custom_providers(env),
            allowed_redirect_urls: env.list("SSO_ALLOWED_REDIRECT_URLS", &[]),
            http_timeout: env
                .positive_duration("SSO_HTTP_TIMEOUT", std::time::Duration::from_secs(10)),
        }
    }

    /// A provider (enabled or not) by lower-case code, built-in or custom.
    #[must_use]
    pub fn get(&self, code: &str) -> Option<&SsoProvider> {
        match code {
            "google" => Some(&self.google),
            "apple" => Some(&self.apple.provider),
            "microsoft" => Some(&self.microsoft),
            "github" => Some(&self.github),
            "facebook" => Some(&self.facebook),
            "linkedin" => Some(&self.linkedin),
            other => self
                .custom
                .iter()
                .find(|c| c.code == other)
                .map(|c| &c.provider),
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

/// `SSO_CUSTOM_PROVIDERS=acme,corp`: each code is `[a-z0-9_]`, not a built-in name, and
/// configured by `SSO_<CODE>_*` (enabled unless `_ENABLED=false`; `_ISSUER` required).
fn custom_providers(env: &mut Env) -> Vec<CustomSso> {
    let mut out: Vec<CustomSso> = Vec::new();
    for raw in env.list("SSO_CUSTOM_PROVIDERS", &[]) {
        let code = raw.to_ascii_lowercase();
        let valid = code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid || BUILTIN_PROVIDERS.contains(&code.as_str()) || code == "custom" {
            let msg = format!("{raw:?} must be [a-z0-9_] and not a built-in provider name");
            env.problem("SSO_CUSTOM_PROVIDERS", msg);
            continue;
        }
        if out.iter().any(|c| c.code == code) {
            continue;
        }
        let upper = code.to_ascii_uppercase();
        let provider = provider(env, &upper, &["openid", "email", "profile"], true, true);
        if provider.enabled && provider.endpoints.issuer.is_none() {
            let var = format!("SSO_{upper}_ISSUER");
            env.problem(&var, "is required for a custom provider (OpenID discovery)");
        }
        let label = env.string(&format!("SSO_{upper}_NAME"), &code);
        out.push(CustomSso {
            code,
            label,
            provider,
        });
    }
    out
}

fn provider(
    env: &mut Env,
    name: &str,
    scopes: &[&str],
    needs_secret: bool,
    enabled_by_default: bool,
) -> SsoProvider {
    let var = |suffix: &str| format!("SSO_{name}_{suffix}");
    let enabled_var = var("ENABLED");
    let endpoints = SsoEndpoints {
        auth_url: env.http_url(&var("AUTH_URL")),
        token_url: env.http_url(&var("TOKEN_URL")),
        userinfo_url: env.http_url(&var("USERINFO_URL")),
        emails_url: env.http_url(&var("EMAILS_URL")),
        jwks_url: env.http_url(&var("JWKS_URL")),
        issuer: env.http_url(&var("ISSUER")),
    };
    let p = SsoProvider {
        enabled: env.flag(&enabled_var, enabled_by_default),
        client_id: env.string(&var("CLIENT_ID"), ""),
        client_secret: env.secret(&var("CLIENT_SECRET")),
        redirect_url: env.string(&var("REDIRECT_URL"), ""),
        scopes: env.list(&var("SCOPES"), scopes),
        endpoints,
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
