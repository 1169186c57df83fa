//! [`CognitoClient`]: the two user-pool calls the bridge needs, over the Cognito JSON 1.1
//! API (`POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`). Both are
//! public, unsigned operations: `InitiateAuth` (`USER_PASSWORD_AUTH`, with `SECRET_HASH`
//! when the app client has a secret) and `GetUser` with the access token it returned, so
//! no AWS credentials are needed.

use std::time::Duration;

use auth_settings::{CognitoSettings, Secret};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

/// What went wrong talking to Cognito.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CognitoError {
    /// Cognito refused the credentials or does not know the user (`NotAuthorizedException`,
    /// `UserNotFoundException`, `UserNotConfirmedException`, a disabled user).
    #[error("cognito rejected the login ({0})")]
    Rejected(String),
    /// The account must reset its password first (`PasswordResetRequiredException`).
    #[error("cognito requires a password reset")]
    ResetRequired,
    /// Cognito is down, slow, throttling or answering nonsense: try later (MIG-05).
    #[error("cognito unavailable: {0}")]
    Unavailable(String),
}

/// The answer to a `USER_PASSWORD_AUTH` that Cognito accepted.
#[derive(Clone, Debug)]
pub enum AuthResult {
    /// Password right, tokens issued.
    Tokens {
        /// The user's Cognito access token (never logged).
        access_token: String,
    },
    /// Password right, but Cognito wants another step first (`NEW_PASSWORD_REQUIRED` for
    /// `FORCE_CHANGE_PASSWORD` users, `SMS_MFA`, `SOFTWARE_TOKEN_MFA`, `MFA_SETUP`, ...).
    Challenge {
        /// `ChallengeName`.
        name: String,
    },
}

/// A Cognito user's profile, from `GetUser`.
#[derive(Clone, Debug, Default)]
pub struct LegacyUser {
    /// The Cognito `Username`.
    pub username: String,
    /// `(name, value)` attributes (`sub`, `email`, `email_verified`, `given_name`, ...).
    pub attributes: Vec<(String, String)>,
}

impl LegacyUser {
    /// The value of attribute `name`.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A user-pool app client talking to one Cognito endpoint.
#[derive(Clone, Debug)]
pub struct CognitoClient {
    http: reqwest::Client,
    endpoint: String,
    client_id: String,
    client_secret: Option<Secret>,
    timeout: Duration,
}

impl CognitoClient {
    /// A client for the configured pool and app client. Each request (connect included)
    /// is bounded by `COGNITO_TIMEOUT`.
    pub fn new(settings: &CognitoSettings) -> Result<Self, CognitoError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| CognitoError::Unavailable(format!("http client: {e}")))?;
        Ok(Self {
            http,
            endpoint: settings.endpoint.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            timeout: settings.timeout,
        })
    }

    /// The bound of one request (and of the whole exchange, see the caller).
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH`.
    pub async fn password_auth(
        &self,
        username: &str,
        password: &str,
    ) -> Result<AuthResult, CognitoError> {
        let mut params = json!({ "USERNAME": username, "PASSWORD": password });
        if let Some(secret) = &self.client_secret {
            params["SECRET_HASH"] =
                Value::String(secret_hash(secret.expose(), username, &self.client_id));
        }
        let body = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": self.client_id,
            "AuthParameters": params,
        });
        let answer: InitiateAuthAnswer = self.call("InitiateAuth", &body).await?;
        if let Some(result) = answer.authentication_result
            && let Some(access_token) = result.access_token
        {
            return Ok(AuthResult::Tokens { access_token });
        }
        match answer.challenge_name {
            Some(name) if !name.is_empty() => Ok(AuthResult::Challenge { name }),
            _ => Err(CognitoError::Unavailable(
                "InitiateAuth answered neither tokens nor a challenge".into(),
            )),
        }
    }

    /// `GetUser` with the user's own access token.
    pub async fn get_user(&self, access_token: &str) -> Result<LegacyUser, CognitoError> {
        let answer: GetUserAnswer = self
            .call("GetUser", &json!({ "AccessToken": access_token }))
            .await?;
        Ok(LegacyUser {
            username: answer.username,
            attributes: answer
                .user_attributes
                .into_iter()
                .map(|a| (a.name, a.value.unwrap_or_default()))
                .collect(),
        })
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        action: &str,
        body: &Value,
    ) -> Result<T, CognitoError> {
        let reply = self
            .http
            .post(&self.endpoint)
            .header(
                "X-Amz-Target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| CognitoError::Unavailable(format!("{action}: {}", transport(e))))?;
        let status = reply.status();
        let header_type = reply
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = reply
            .bytes()
            .await
            .map_err(|e| CognitoError::Unavailable(format!("{action}: {}", transport(e))))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CognitoError::Unavailable(format!("{action}: bad answer: {e}")));
        }
        let parsed: ErrorAnswer = serde_json::from_slice(&bytes).unwrap_or_default();
        let kind = error_kind(parsed.kind.as_deref().or(header_type.as_deref()));
        Err(classify(action, status.as_u16(), &kind))
    }
}

/// `SECRET_HASH` = base64(HMAC-SHA256(key = client secret, message = username + client id)).
#[must_use]
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    // HMAC takes keys of any length: the error branch cannot happen
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The short exception name (`com.amazonaws...#NotAuthorizedException:...` →
/// `NotAuthorizedException`).
fn error_kind(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default();
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash
        .split(':')
        .next()
        .unwrap_or(after_hash)
        .trim()
        .to_owned()
}

/// Maps an error answer to what the login does with it.
fn classify(action: &str, status: u16, kind: &str) -> CognitoError {
    match kind {
        "NotAuthorizedException" | "UserNotFoundException" | "UserNotConfirmedException" => {
            CognitoError::Rejected(kind.to_owned())
        }
        "PasswordResetRequiredException" => CognitoError::ResetRequired,
        // throttling, Cognito's own faults, and configuration errors (wrong client id, the
        // flow not enabled on the app client): none is the user's fault, all are "try later"
        _ => CognitoError::Unavailable(format!("{action}: HTTP {status} {kind}")),
    }
}

/// A transport error without the URL's query or any body.
fn transport(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        e.without_url().to_string()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateAuthAnswer {
    #[serde(default)]
    authentication_result: Option<AuthenticationResult>,
    #[serde(default)]
    challenge_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuthenticationResult {
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUserAnswer {
    #[serde(default)]
    username: String,
    #[serde(default)]
    user_attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Default, Deserialize)]
struct ErrorAnswer {
    #[serde(rename = "__type", default)]
    kind: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_the_documented_construction() {
        // computed independently: base64(hmac_sha256(b"s3cr3t", b"alice@example.com" + b"client123"))
        assert_eq!(
            secret_hash("s3cr3t", "alice@example.com", "client123"),
            "3oRHe3WR8/3iS7+pKVoHosPyR4ClwhKdlubBSWTpAg0="
        );
    }

    #[test]
    fn error_answers_are_classified() {
        assert_eq!(
            error_kind(Some("com.amazonaws.cognito#NotAuthorizedException")),
            "NotAuthorizedException"
        );
        assert_eq!(
            error_kind(Some("UserNotFoundException:http://x")),
            "UserNotFoundException"
        );
        assert!(matches!(
            classify("InitiateAuth", 400, "NotAuthorizedException"),
            CognitoError::Rejected(_)
        ));
        assert!(matches!(
            classify("InitiateAuth", 400, "UserNotFoundException"),
            CognitoError::Rejected(_)
        ));
        assert!(matches!(
            classify("InitiateAuth", 400, "PasswordResetRequiredException"),
            CognitoError::ResetRequired
        ));
        // MIG-05: throttling and faults are "try later", never a rejection
        for kind in [
            "TooManyRequestsException",
            "InternalErrorException",
            "ResourceNotFoundException",
            "",
        ] {
            assert!(matches!(
                classify("InitiateAuth", 400, kind),
                CognitoError::Unavailable(_)
            ));
        }
    }
}
