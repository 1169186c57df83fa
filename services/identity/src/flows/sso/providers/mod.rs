//! The providers: which endpoints each one uses, the authorization URL, the code exchange
//! (the `oauth2` crate over our reqwest client) and the identity each one yields.
//!
//! - [`oidc`]: OpenID Connect (Google, Microsoft, custom): discovery, JWKS, ID tokens.
//! - [`userinfo`]: GitHub, Facebook, LinkedIn through their user-info APIs.
//! - [`apple`]: Sign in with Apple (ES256 client secret, `form_post`, `user` JSON).

pub mod apple;
pub mod http;
pub mod oidc;
pub mod userinfo;

use auth_edge::{ApiError, ErrorCode};
use auth_settings::{Settings, SsoProvider};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

/// How a provider proves who the user is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An OpenID Connect ID token (Google, Microsoft, custom providers).
    Oidc,
    /// Sign in with Apple: an ID token, ES256 client secret, `form_post`.
    Apple,
    /// GitHub's `/user` and `/user/emails`.
    GitHub,
    /// Facebook's Graph `/me`.
    Facebook,
    /// LinkedIn's OpenID user-info endpoint.
    LinkedIn,
}

/// A provider with its endpoints resolved (defaults, overrides, discovery).
#[derive(Clone, Debug)]
pub struct Provider {
    /// Lower-case code (`google`, `acme`).
    pub code: String,
    /// Display label (`Google`).
    pub label: String,
    /// What `users.auth_provider` records (`custom` for custom providers).
    pub auth_provider: String,
    /// Flavour.
    pub kind: Kind,
    /// The settings (client id, secret, scopes, overrides).
    pub config: SsoProvider,
    /// Authorization endpoint.
    pub auth_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// User-info endpoint (non-OIDC kinds).
    pub userinfo_url: Option<String>,
    /// GitHub's emails endpoint.
    pub emails_url: Option<String>,
    /// Key set of the ID-token signer (OIDC kinds).
    pub jwks_url: Option<String>,
    /// Expected `iss` (OIDC kinds); Microsoft's default is per tenant (`{tenantid}`).
    pub issuer: Option<String>,
}

/// The identity a provider vouched for.
#[derive(Clone, Debug, Default)]
pub struct ExternalIdentity {
    /// Stable key at the provider (`sub`; Microsoft `tid:oid`; GitHub's numeric id).
    pub subject: String,
    /// Email, if the provider gave one.
    pub email: Option<String>,
    /// Whether the provider says it verified that email.
    pub email_verified: bool,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Picture URL.
    pub avatar_url: Option<String>,
}

/// 400 `SSO_NOT_CONFIGURED`.
#[must_use]
pub fn not_configured(code: &str) -> ApiError {
    ApiError::new(
        ErrorCode::SsoNotConfigured,
        format!("SSO provider {code:?} is not configured"),
    )
}

/// 502 `SSO_PROVIDER_ERROR`; `cause` goes to the log only.
pub fn provider_error(cause: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::SsoProviderError,
        "The identity provider could not complete the sign-in",
    )
    .with_cause(cause)
}

/// 401 `TOKEN_INVALID`: the provider's ID token failed a check (SSO-04).
pub fn id_token_rejected(cause: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::TokenInvalid,
        "The identity provider's ID token was rejected",
    )
    .with_cause(cause)
}

fn or(value: &Option<String>, default: &str) -> String {
    value.clone().unwrap_or_else(|| default.to_owned())
}

/// The enabled provider `code`, endpoints resolved (custom ones by discovery): unknown or
/// disabled is 400 `SSO_NOT_CONFIGURED` (SSO-12).
pub async fn resolve(settings: &Settings, code: &str) -> Result<Provider, ApiError> {
    let sso = &settings.sso;
    let code = code.trim().to_ascii_lowercase();
    let config = sso
        .get(&code)
        .filter(|p| p.enabled)
        .cloned()
        .ok_or_else(|| not_configured(&code))?;
    let e = &config.endpoints;
    let builtin = |label: &str, kind: Kind, auth: &str, token: &str| Provider {
        code: code.clone(),
        label: label.to_owned(),
        auth_provider: code.clone(),
        kind,
        config: config.clone(),
        auth_url: or(&e.auth_url, auth),
        token_url: or(&e.token_url, token),
        userinfo_url: None,
        emails_url: None,
        jwks_url: None,
        issuer: None,
    };
    let p = match code.as_str() {
        "google" => Provider {
            jwks_url: Some(or(
                &e.jwks_url,
                "https://www.googleapis.com/oauth2/v3/certs",
            )),
            issuer: Some(or(&e.issuer, "https://accounts.google.com")),
            ..builtin(
                "Google",
                Kind::Oidc,
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
            )
        },
        "microsoft" => Provider {
            jwks_url: Some(or(
                &e.jwks_url,
                "https://login.microsoftonline.com/common/discovery/v2.0/keys",
            )),
            issuer: Some(or(
                &e.issuer,
                "https://login.microsoftonline.com/{tenantid}/v2.0",
            )),
            ..builtin(
                "Microsoft",
                Kind::Oidc,
                "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            )
        },
        "apple" => Provider {
            jwks_url: Some(or(&e.jwks_url, "https://appleid.apple.com/auth/keys")),
            issuer: Some(or(&e.issuer, "https://appleid.apple.com")),
            ..builtin(
                "Apple",
                Kind::Apple,
                "https://appleid.apple.com/auth/authorize",
                "https://appleid.apple.com/auth/token",
            )
        },
        "github" => Provider {
            userinfo_url: Some(or(&e.userinfo_url, "https://api.github.com/user")),
            emails_url: Some(or(&e.emails_url, "https://api.github.com/user/emails")),
            ..builtin(
                "GitHub",
                Kind::GitHub,
                "https://github.com/login/oauth/authorize",
                "https://github.com/login/oauth/access_token",
            )
        },
        "facebook" => Provider {
            userinfo_url: Some(or(
                &e.userinfo_url,
                "https://graph.facebook.com/v19.0/me?fields=id,email,first_name,last_name,name,picture",
            )),
            ..builtin(
                "Facebook",
                Kind::Facebook,
                "https://www.facebook.com/v19.0/dialog/oauth",
                "https://graph.facebook.com/v19.0/oauth/access_token",
            )
        },
        "linkedin" => Provider {
            userinfo_url: Some(or(&e.userinfo_url, "https://api.linkedin.com/v2/userinfo")),
            ..builtin(
                "LinkedIn",
                Kind::LinkedIn,
                "https://www.linkedin.com/oauth/v2/authorization",
                "https://www.linkedin.com/oauth/v2/accessToken",
            )
        },
        _ => oidc::custom(settings, &code, config.clone()).await?,
    };
    Ok(p)
}

/// Every enabled provider's code and label, without network calls.
#[must_use]
pub fn enabled(settings: &Settings) -> Vec<(String, String)> {
    let sso = &settings.sso;
    let builtin = [
        ("google", "Google", &sso.google),
        ("apple", "Apple", &sso.apple.provider),
        ("microsoft", "Microsoft", &sso.microsoft),
        ("github", "GitHub", &sso.github),
        ("facebook", "Facebook", &sso.facebook),
        ("linkedin", "LinkedIn", &sso.linkedin),
    ];
    let mut out: Vec<(String, String)> = builtin
        .into_iter()
        .filter(|(_, _, p)| p.enabled)
        .map(|(c, l, _)| (c.to_owned(), l.to_owned()))
        .collect();
    out.extend(
        sso.custom
            .iter()
            .filter(|c| c.provider.enabled)
            .map(|c| (c.code.clone(), c.label.clone())),
    );
    out
}

/// The `id_token` next to the access token in a token response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    /// OpenID Connect ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

/// Token endpoint reply.
pub type ProviderTokens = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    ProviderTokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

impl Provider {
    fn client(&self, redirect_uri: &str, secret: Option<String>) -> Result<OAuthClient, ApiError> {
        let auth = AuthUrl::new(self.auth_url.clone()).map_err(provider_error)?;
        let token = TokenUrl::new(self.token_url.clone()).map_err(provider_error)?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| ApiError::validation("redirect_url is not a valid URL"))?;
        // OpenID providers take HTTP Basic; the others want the secret in the body
        let auth_type = match self.kind {
            Kind::Oidc => AuthType::BasicAuth,
            _ => AuthType::RequestBody,
        };
        let mut client = oauth2::Client::new(ClientId::new(self.config.client_id.clone()))
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect)
            .set_auth_type(auth_type);
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        Ok(client)
    }

    /// The authorization URL for `state`, with our S256 challenge (SSO-09) and `nonce`.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: PkceCodeChallenge,
    ) -> Result<String, ApiError> {
        let client = self.client(redirect_uri, None)?;
        let state = state.to_owned();
        let mut req = client
            .authorize_url(move || CsrfToken::new(state))
            .set_pkce_challenge(challenge)
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new));
        if matches!(self.kind, Kind::Oidc | Kind::Apple | Kind::LinkedIn) {
            req = req.add_extra_param("nonce", nonce);
        }
        if self.kind == Kind::Apple
            && self
                .config
                .scopes
                .iter()
                .any(|s| s == "name" || s == "email")
        {
            // Apple only returns name and email to a form_post callback
            req = req.add_extra_param("response_mode", "form_post");
        }
        let (url, _) = req.url();
        Ok(url.to_string())
    }

    /// Redeems `code` at the token endpoint with our PKCE verifier; any failure (down,
    /// 5xx, an error reply, malformed JSON) is 502 `SSO_PROVIDER_ERROR` (SSO-10).
    pub async fn exchange(
        &self,
        settings: &Settings,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<ProviderTokens, ApiError> {
        let secret = match self.kind {
            Kind::Apple => Some(apple::client_secret(settings, self)?),
            _ => self
                .config
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_owned()),
        };
        let client = self.client(redirect_uri, secret)?;
        let http = http::client(settings.sso.http_timeout)?;
        client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| provider_error(format!("token endpoint of {}: {e}", self.code)))
    }

    /// The identity behind `tokens` (ID token checks or user-info calls).
    pub async fn identity(
        &self,
        settings: &Settings,
        tokens: &ProviderTokens,
        nonce: &str,
        apple_user: Option<&str>,
    ) -> Result<ExternalIdentity, ApiError> {
        match self.kind {
            Kind::Oidc => {
                let id_token = tokens
                    .extra_fields()
                    .id_token
                    .as_deref()
                    .ok_or_else(|| provider_error("token reply without id_token"))?;
                oidc::identity(settings, self, id_token, nonce).await
            }
            Kind::Apple => {
                let id_token = tokens
                    .extra_fields()
                    .id_token
                    .as_deref()
                    .ok_or_else(|| provider_error("token reply without id_token"))?;
                apple::identity(settings, self, id_token, nonce, apple_user).await
            }
            Kind::GitHub | Kind::Facebook | Kind::LinkedIn => {
                userinfo::identity(settings, self, tokens.access_token().secret()).await
            }
        }
    }
}
