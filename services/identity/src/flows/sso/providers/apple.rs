//! Sign in with Apple: the client secret is an ES256 JWT signed with the `.p8` key (team id
//! as `iss`, key id as `kid`, client id as `sub`); the ID token is checked like any OpenID
//! one; the name comes from the `user` JSON that Apple posts on first consent only.

use auth_edge::ApiError;
use auth_settings::Settings;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::{ExternalIdentity, Provider, oidc, provider_error};

/// Lifetime of a minted client secret (Apple allows up to six months; we mint per call).
const SECRET_TTL_SECS: i64 = 300;

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'a str,
    sub: &'a str,
}

/// The ES256 client secret for the token request.
pub fn client_secret(settings: &Settings, provider: &Provider) -> Result<String, ApiError> {
    let apple = &settings.sso.apple;
    let pem = apple
        .private_key
        .as_ref()
        .ok_or_else(|| provider_error("SSO_APPLE_PRIVATE_KEY missing"))?;
    // the .p8 file is often pasted with literal "\n" sequences into env files
    let pem = pem.expose().replace("\\n", "\n");
    let key = EncodingKey::from_ec_der(&pem_to_der(&pem)?);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(apple.key_id.clone());
    let now = Utc::now().timestamp();
    let claims = SecretClaims {
        iss: &apple.team_id,
        iat: now,
        exp: now + SECRET_TTL_SECS,
        aud: provider
            .issuer
            .as_deref()
            .unwrap_or("https://appleid.apple.com"),
        sub: &provider.config.client_id,
    };
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| provider_error(format!("Apple client secret: {e}")))
}

/// The DER bytes of a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
fn pem_to_der(pem: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| provider_error("SSO_APPLE_PRIVATE_KEY is not a PEM key"))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AppleName {
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct AppleUser {
    #[serde(default)]
    name: Option<AppleName>,
}

/// The identity in Apple's ID token, named from the first-consent `user` JSON when given
/// (its email is ignored: only the signed ID token's email counts).
pub async fn identity(
    settings: &Settings,
    provider: &Provider,
    id_token: &str,
    nonce: &str,
    user_json: Option<&str>,
) -> Result<ExternalIdentity, ApiError> {
    let c = oidc::verify(settings, provider, id_token, nonce).await?;
    let user: AppleUser = user_json
        .and_then(|raw| serde_json::from_str(raw).ok())
        .unwrap_or_default();
    let name = user.name.unwrap_or_default();
    Ok(ExternalIdentity {
        subject: c.sub,
        email_verified: oidc::strict_verified(c.email_verified.as_ref()),
        email: c.email,
        first_name: name.first_name.or(c.given_name),
        last_name: name.last_name.or(c.family_name),
        display_name: c.name,
        avatar_url: None,
    })
}
