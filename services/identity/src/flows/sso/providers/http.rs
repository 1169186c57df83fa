//! The HTTP client towards providers: bounded by `SSO_HTTP_TIMEOUT`, no redirects (a
//! token or user-info endpoint that redirects is an error, not a hop elsewhere), and JSON
//! fetches that turn every failure into 502 `SSO_PROVIDER_ERROR` (SSO-10).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use auth_edge::ApiError;
use serde::de::DeserializeOwned;

use super::provider_error;

static CLIENTS: LazyLock<Mutex<HashMap<Duration, reqwest::Client>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Largest provider reply we read.
const MAX_BODY: usize = 1 << 20;

/// The shared client for `timeout` (built once per distinct timeout).
pub fn client(timeout: Duration) -> Result<reqwest::Client, ApiError> {
    let mut clients = CLIENTS
        .lock()
        .map_err(|_| provider_error("http client cache poisoned"))?;
    if let Some(c) = clients.get(&timeout) {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("auth-platform-identity")
        .build()
        .map_err(provider_error)?;
    clients.insert(timeout, c.clone());
    Ok(c)
}

/// GET `url` (with a bearer token when given) and parse a JSON body of at most 1 MiB.
pub async fn get_json<T: DeserializeOwned>(
    timeout: Duration,
    url: &str,
    bearer: Option<&str>,
) -> Result<T, ApiError> {
    let mut req = client(timeout)?
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| provider_error(format!("GET {url}: {e}")))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(provider_error(format!("GET {url}: status {status}")));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| provider_error(format!("GET {url}: {e}")))?;
    if body.len() > MAX_BODY {
        return Err(provider_error(format!("GET {url}: reply too large")));
    }
    serde_json::from_slice(&body).map_err(|e| provider_error(format!("GET {url}: bad JSON: {e}")))
}
