//! `POST /oauth/token` request parsing (RFC 6749 §4.4 client_credentials, §2.3.1 client
//! authentication) and scope down-scoping. Pure: the handler feeds it the content type,
//! the body, the query string and the `Authorization` header.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// The only grant this server issues.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// The parameters this endpoint reads; a repeated one is refused (M2M-06).
const PARAMS: [&str; 4] = ["grant_type", "client_id", "client_secret", "scope"];

/// OAuth error codes used by the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// 400: malformed request.
    InvalidRequest,
    /// 400: a grant other than `client_credentials`.
    UnsupportedGrantType,
    /// 401: client authentication failed.
    InvalidClient,
}

impl OAuthErrorCode {
    /// The wire spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidClient => "invalid_client",
        }
    }
}

/// A refused token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthFailure {
    /// The error code.
    pub code: OAuthErrorCode,
    /// `error_description`.
    pub description: &'static str,
    /// Whether the client used HTTP Basic (the 401 then carries `WWW-Authenticate: Basic`).
    pub basic: bool,
}

impl OAuthFailure {
    fn request(description: &'static str) -> Self {
        Self {
            code: OAuthErrorCode::InvalidRequest,
            description,
            basic: false,
        }
    }

    /// The uniform 401 for any client-authentication failure (unknown id, wrong secret,
    /// revoked client).
    #[must_use]
    pub fn invalid_client(basic: bool) -> Self {
        Self {
            code: OAuthErrorCode::InvalidClient,
            description: "Client authentication failed",
            basic,
        }
    }
}

/// A well-formed client_credentials request.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The client's `client_id`.
    pub client_id: String,
    /// The presented secret (never logged).
    pub client_secret: String,
    /// Requested scopes (`None` = all the client's scopes).
    pub scope: Option<Vec<String>>,
    /// Whether the credentials came in an HTTP Basic header.
    pub basic: bool,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("basic", &self.basic)
            .finish_non_exhaustive()
    }
}

/// What the handler saw of the HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// `Content-Type` (`None` or empty = JSON).
    pub content_type: Option<&'a str>,
    /// The body bytes.
    pub body: &'a [u8],
    /// The raw query string.
    pub query: Option<&'a str>,
    /// Every `Authorization` header value.
    pub authorization: &'a [&'a [u8]],
}

/// Parses and checks a token request (order: body, grant type, client credentials).
pub fn parse(raw: &RawRequest<'_>) -> Result<TokenRequest, OAuthFailure> {
    if let Some(q) = raw.query.filter(|q| !q.is_empty()) {
        let named = form_urlencoded::parse(q.as_bytes()).any(|(k, _)| PARAMS.contains(&&*k));
        if named {
            return Err(OAuthFailure::request(
                "Parameters and credentials must be sent in the request body, not the URL",
            ));
        }
    }
    let params = body_params(raw.content_type, raw.body)?;
    match params.get("grant_type").map(String::as_str) {
        None | Some("") => return Err(OAuthFailure::request("grant_type is required")),
        Some(CLIENT_CREDENTIALS) => {}
        Some(_) => {
            return Err(OAuthFailure {
                code: OAuthErrorCode::UnsupportedGrantType,
                description: "Only the client_credentials grant is supported",
                basic: false,
            });
        }
    }
    let scope = params.get("scope").map(|s| split_scope(s));
    let body_id = params.get("client_id").filter(|s| !s.is_empty());
    let body_secret = params.get("client_secret").filter(|s| !s.is_empty());
    if let Some((id, secret)) = basic_credentials(raw.authorization)? {
        if body_secret.is_some() || body_id.is_some_and(|b| *b != id) {
            return Err(OAuthFailure::request(
                "Use one client authentication method: HTTP Basic or the request body",
            ));
        }
        return Ok(TokenRequest {
            client_id: id,
            client_secret: secret,
            scope,
            basic: true,
        });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(TokenRequest {
            client_id: id.clone(),
            client_secret: secret.clone(),
            scope,
            basic: false,
        }),
        (None, _) => Err(OAuthFailure::request("client_id is required")),
        (Some(_), None) => Err(OAuthFailure::request("client_secret is required")),
    }
}

/// The body's parameters, by content type.
fn body_params(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<BTreeMap<String, String>, OAuthFailure> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "" | "application/json" => json_params(body),
        "application/x-www-form-urlencoded" => form_params(body),
        _ => Err(OAuthFailure::request(
            "Content-Type must be application/x-www-form-urlencoded or application/json",
        )),
    }
}

fn form_params(body: &[u8]) -> Result<BTreeMap<String, String>, OAuthFailure> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if PARAMS.contains(&&*k) && out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(OAuthFailure::request("Request parameters must not repeat"));
        }
    }
    Ok(out)
}

/// A JSON object as ordered key/value pairs, keeping repeated keys visible.
struct Pairs(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    out.push(entry);
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn json_params(body: &[u8]) -> Result<BTreeMap<String, String>, OAuthFailure> {
    let bad = || OAuthFailure::request("The request body must be a JSON object");
    let Pairs(pairs) = serde_json::from_slice(body).map_err(|_| bad())?;
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if !PARAMS.contains(&k.as_str()) {
            continue;
        }
        let value = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => continue,
            serde_json::Value::Array(items) if k == "scope" => {
                let mut words = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        serde_json::Value::String(s) => words.push(s),
                        _ => return Err(OAuthFailure::request("scope must be a string")),
                    }
                }
                words.join(" ")
            }
            _ => return Err(OAuthFailure::request("Request parameters must be strings")),
        };
        if out.insert(k, value).is_some() {
            return Err(OAuthFailure::request("Request parameters must not repeat"));
        }
    }
    Ok(out)
}

/// `Authorization: Basic base64(urlenc(id) ":" urlenc(secret))`; `None` when no Basic
/// header was sent; a malformed one is a client-authentication failure.
fn basic_credentials(headers: &[&[u8]]) -> Result<Option<(String, String)>, OAuthFailure> {
    let mut basic = headers.iter().filter(|h| {
        h.len() > 6 && h[..6].eq_ignore_ascii_case(b"basic ") || h.eq_ignore_ascii_case(b"basic")
    });
    let Some(value) = basic.next() else {
        return Ok(None);
    };
    let fail = || OAuthFailure::invalid_client(true);
    if basic.next().is_some() || headers.len() > 1 {
        return Err(OAuthFailure {
            basic: true,
            ..OAuthFailure::request("Only one Authorization header is allowed")
        });
    }
    let encoded = value.get(6..).ok_or_else(fail)?;
    let encoded = std::str::from_utf8(encoded).map_err(|_| fail())?.trim();
    let decoded = STANDARD.decode(encoded).map_err(|_| fail())?;
    let decoded = String::from_utf8(decoded).map_err(|_| fail())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(fail)?;
    let (id, secret) = (form_decode(id), form_decode(secret));
    if id.is_empty() || secret.is_empty() {
        return Err(fail());
    }
    Ok(Some((id, secret)))
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` = space, `%XX`).
fn form_decode(s: &str) -> String {
    let mut pair = String::with_capacity(s.len() + 2);
    pair.push_str("v=");
    pair.push_str(&s.replace('&', "%26").replace('=', "%3D"));
    form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Splits a space-delimited scope string, dropping empties and repeats.
#[must_use]
pub fn split_scope(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in s.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.iter().any(|w| w == word) {
            out.push(word.to_owned());
        }
    }
    out
}

/// Granted scopes: the requested ones the client holds (unknown ones silently dropped),
/// or every configured scope when none were requested. Never wider than `configured`.
#[must_use]
pub fn grant_scopes(requested: Option<&[String]>, configured: &[String]) -> Vec<String> {
    match requested {
        None => configured.to_vec(),
        Some(req) => req
            .iter()
            .filter(|s| configured.contains(s))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests;
