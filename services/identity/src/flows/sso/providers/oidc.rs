//! OpenID Connect: discovery for custom providers, the provider's JWKS (cached, refetched
//! once for an unknown `kid`), and ID-token checks (OIDC Core §3.1.3.7; SSO-04, SSO-05):
//! asymmetric algorithms only, signature, `iss`, `aud`, `exp`, `nonce`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use auth_edge::ApiError;
use auth_settings::{Settings, SsoProvider};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{ExternalIdentity, Kind, Provider, http, id_token_rejected, provider_error};

/// How long a fetched key set or discovery document is reused.
const CACHE_TTL: Duration = Duration::from_secs(3600);

static JWKS: LazyLock<Mutex<HashMap<String, (Instant, JwkSet)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static DISCOVERY: LazyLock<Mutex<HashMap<String, (Instant, Discovery)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The fields of `/.well-known/openid-configuration` we use.
#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

fn cached<T: Clone>(map: &Mutex<HashMap<String, (Instant, T)>>, key: &str) -> Option<T> {
    let map = map.lock().ok()?;
    map.get(key)
        .filter(|(at, _)| at.elapsed() < CACHE_TTL)
        .map(|(_, v)| v.clone())
}

fn remember<T>(map: &Mutex<HashMap<String, (Instant, T)>>, key: &str, value: T) {
    if let Ok(mut map) = map.lock() {
        map.insert(key.to_owned(), (Instant::now(), value));
    }
}

/// A custom provider from `SSO_<CODE>_ISSUER` discovery, overrides winning.
pub async fn custom(
    settings: &Settings,
    code: &str,
    config: SsoProvider,
) -> Result<Provider, ApiError> {
    let e = config.endpoints.clone();
    let issuer = e
        .issuer
        .clone()
        .ok_or_else(|| super::not_configured(code))?;
    let needs_discovery = e.auth_url.is_none() || e.token_url.is_none() || e.jwks_url.is_none();
    let doc = if needs_discovery {
        Some(discover(settings, &issuer).await?)
    } else {
        None
    };
    let pick = |over: &Option<String>, found: Option<&String>| -> Result<String, ApiError> {
        over.clone()
            .or_else(|| found.cloned())
            .ok_or_else(|| provider_error("discovery incomplete"))
    };
    let label = settings
        .sso
        .custom
        .iter()
        .find(|c| c.code == code)
        .map_or_else(|| code.to_owned(), |c| c.label.clone());
    Ok(Provider {
        code: code.to_owned(),
        label,
        auth_provider: "custom".to_owned(),
        kind: Kind::Oidc,
        auth_url: pick(&e.auth_url, doc.as_ref().map(|d| &d.authorization_endpoint))?,
        token_url: pick(&e.token_url, doc.as_ref().map(|d| &d.token_endpoint))?,
        jwks_url: Some(pick(&e.jwks_url, doc.as_ref().map(|d| &d.jwks_uri))?),
        userinfo_url: None,
        emails_url: None,
        issuer: Some(issuer),
        config,
    })
}

async fn discover(settings: &Settings, issuer: &str) -> Result<Discovery, ApiError> {
    if let Some(d) = cached(&DISCOVERY, issuer) {
        return Ok(d);
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc: Discovery = http::get_json(settings.sso.http_timeout, &url, None).await?;
    // OpenID Discovery §4.3: the document must name the issuer we asked
    if doc.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(provider_error(format!(
            "discovery issuer {:?} differs from the configured {issuer:?}",
            doc.issuer
        )));
    }
    remember(&DISCOVERY, issuer, doc.clone());
    Ok(doc)
}

async fn key_set(settings: &Settings, url: &str, fresh: bool) -> Result<JwkSet, ApiError> {
    if !fresh && let Some(set) = cached(&JWKS, url) {
        return Ok(set);
    }
    let set: JwkSet = http::get_json(settings.sso.http_timeout, url, None).await?;
    remember(&JWKS, url, set.clone());
    Ok(set)
}

/// The ID-token claims we read.
#[derive(Debug, Deserialize)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Nonce echoed from the authorization request.
    pub nonce: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// `true`/`false`, or Apple's `"true"`/`"false"`.
    pub email_verified: Option<serde_json::Value>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Microsoft tenant id.
    pub tid: Option<String>,
    /// Microsoft object id (stable per tenant).
    pub oid: Option<String>,
}

/// `email_verified` parsed strictly: JSON `true` or the string `"true"` (SSO-11); anything
/// else, absent included, is false.
#[must_use]
pub fn strict_verified(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    }
}

const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Verifies `id_token` for `provider` and our `nonce`; returns its claims.
pub async fn verify(
    settings: &Settings,
    provider: &Provider,
    id_token: &str,
    nonce: &str,
) -> Result<IdClaims, ApiError> {
    let header = jsonwebtoken::decode_header(id_token).map_err(id_token_rejected)?;
    if !ALLOWED.contains(&header.alg) {
        return Err(id_token_rejected(format!(
            "algorithm {:?} refused",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| id_token_rejected("ID token without kid"))?;
    let url = provider
        .jwks_url
        .as_deref()
        .ok_or_else(|| provider_error("no JWKS URL"))?;
    let mut set = key_set(settings, url, false).await?;
    if set.find(&kid).is_none() {
        set = key_set(settings, url, true).await?;
    }
    let jwk = set
        .find(&kid)
        .ok_or_else(|| id_token_rejected(format!("kid {kid:?} not in the provider's JWKS")))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| provider_error(format!("JWKS key: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[provider.config.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    let data =
        jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation).map_err(id_token_rejected)?;
    let claims = data.claims;
    check_issuer(provider, &claims)?;
    let echoed = claims.nonce.as_deref().unwrap_or_default();
    if !bool::from(echoed.as_bytes().ct_eq(nonce.as_bytes())) {
        return Err(id_token_rejected("nonce mismatch"));
    }
    Ok(claims)
}

fn check_issuer(provider: &Provider, claims: &IdClaims) -> Result<(), ApiError> {
    let expected = provider
        .issuer
        .as_deref()
        .ok_or_else(|| provider_error("no issuer configured"))?;
    let expected = match (&claims.tid, expected.contains("{tenantid}")) {
        (Some(tid), true) => expected.replace("{tenantid}", tid),
        (None, true) => return Err(id_token_rejected("Microsoft ID token without tid")),
        _ => expected.to_owned(),
    };
    let ok = claims.iss.trim_end_matches('/') == expected.trim_end_matches('/')
        || (provider.code == "google"
            && expected == "https://accounts.google.com"
            && claims.iss == "accounts.google.com");
    if ok {
        Ok(())
    } else {
        Err(id_token_rejected(format!(
            "issuer {:?} is not {expected:?}",
            claims.iss
        )))
    }
}

/// The identity in a verified ID token: keyed by `sub`, or `tid:oid` for Microsoft (SSO-05).
pub async fn identity(
    settings: &Settings,
    provider: &Provider,
    id_token: &str,
    nonce: &str,
) -> Result<ExternalIdentity, ApiError> {
    let c = verify(settings, provider, id_token, nonce).await?;
    let subject = if provider.code == "microsoft" {
        match (&c.tid, &c.oid) {
            (Some(tid), Some(oid)) => format!("{tid}:{oid}"),
            _ => return Err(id_token_rejected("Microsoft ID token without tid/oid")),
        }
    } else {
        c.sub.clone()
    };
    Ok(ExternalIdentity {
        subject,
        email_verified: strict_verified(c.email_verified.as_ref()),
        email: c.email,
        first_name: c.given_name,
        last_name: c.family_name,
        display_name: c.name,
        avatar_url: c.picture,
    })
}

#[cfg(test)]
mod tests {
    use super::strict_verified;
    use serde_json::json;

    #[test]
    fn email_verified_is_parsed_strictly() {
        assert!(strict_verified(Some(&json!(true))));
        assert!(strict_verified(Some(&json!("true"))));
        assert!(!strict_verified(Some(&json!("TRUE"))));
        assert!(!strict_verified(Some(&json!("yes"))));
        assert!(!strict_verified(Some(&json!(1))));
        assert!(!strict_verified(Some(&json!(false))));
        assert!(!strict_verified(None));
    }
}
