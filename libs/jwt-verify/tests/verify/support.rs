//! Shared fixtures: secrets, a fixed clock, typical claims, and token signers.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jwt_verify::{
    AccessClaims, ManualClock, Purpose, PurposeClaims, RefreshClaims, RevocationSource,
    ServiceClaims, StaticRevocation, TokenType, Verifier, VerifierConfig,
};
use serde::Serialize;
use sha2::Sha256;

pub const ACCESS: &[u8] = b"access-secret-0123456789-abcdefghijklmnop";
pub const PREVIOUS: &[u8] = b"previous-access-secret-0123456789-abcdef";
pub const REFRESH: &[u8] = b"refresh-secret-0123456789-abcdefghijklmno";
pub const PREVIOUS_REFRESH: &[u8] = b"previous-refresh-secret-0123456789-abcde";
pub const ISS: &str = "ven-auth";
pub const AUD: &str = "ven-platform";
/// The fixed "now" of the manual clock, unix seconds.
pub const NOW: i64 = 1_800_000_000;
pub const USER: &str = "6f1c7a52-3f0e-4a8e-9d55-0c1d2e3f4a5b";

/// A full configuration (access + previous, refresh + previous) on a manual clock at NOW.
pub fn config(clock: &Arc<ManualClock>) -> VerifierConfig {
    VerifierConfig::new(ACCESS, ISS, AUD)
        .with_previous_secret(PREVIOUS)
        .with_refresh_secrets(REFRESH, Some(PREVIOUS_REFRESH.to_vec()))
        .with_clock(clock.clone())
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(NOW * 1000))
}

/// A verifier over a fresh static revocation source.
pub fn verifier() -> (Verifier, Arc<StaticRevocation>, Arc<ManualClock>) {
    let clock = clock();
    let rev = Arc::new(StaticRevocation::new());
    let v = Verifier::new(config(&clock), rev.clone() as Arc<dyn RevocationSource>)
        .expect("valid config");
    (v, rev, clock)
}

/// A typical access token: roles, ten permissions, org and app scope.
pub fn access_claims() -> AccessClaims {
    AccessClaims {
        iss: ISS.into(),
        sub: USER.into(),
        aud: vec![AUD.into()],
        exp: NOW + 900,
        nbf: NOW,
        iat: NOW,
        jti: "0b8f3c1e-2d4a-4f6b-8c9d-1e2f3a4b5c6d".into(),
        uid: USER.into(),
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        display_name: "Ada L.".into(),
        org_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into(),
        org_slug: "analytical".into(),
        org_name: "Analytical Engines".into(),
        roles: vec!["org_admin".into(), "user".into()],
        permissions: [
            "users:read",
            "users:write",
            "orgs:read",
            "orgs:write",
            "apps:read",
            "roles:read",
            "org:members:read",
            "org:members:write",
            "org:invitations:write",
            "billing:read",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        token_type: TokenType::Access,
        session_id: "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a".into(),
        remember_me: true,
        auth_provider: "local".into(),
        tv: 3,
        app_id: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a".into(),
        app_code: "dashboard".into(),
        namespace: String::new(),
        imp_uid: String::new(),
        imp_email: String::new(),
    }
}

pub fn service_claims() -> ServiceClaims {
    ServiceClaims {
        iss: ISS.into(),
        sub: "client-42".into(),
        aud: vec![AUD.into()],
        exp: NOW + 3600,
        nbf: NOW,
        iat: NOW,
        jti: "svc-jti-1".into(),
        token_type: TokenType::Service,
        client_id: "client-42".into(),
        service_name: "billing".into(),
        scopes: vec!["permissions:register".into()],
        roles: vec![],
        permissions: vec![],
    }
}

pub fn refresh_claims() -> RefreshClaims {
    RefreshClaims {
        iss: ISS.into(),
        sub: USER.into(),
        aud: vec![AUD.into()],
        exp: NOW + 7 * 24 * 3600,
        nbf: NOW,
        iat: NOW,
        jti: "row-1".into(),
        uid: USER.into(),
        org_id: String::new(),
        tid: "row-1".into(),
        remember_me: false,
        app_code: "dashboard".into(),
    }
}

pub fn purpose_claims(purpose: Purpose) -> PurposeClaims {
    PurposeClaims {
        iss: ISS.into(),
        sub: USER.into(),
        aud: vec![purpose.audience(ISS)],
        exp: NOW + 3600,
        nbf: None,
        iat: NOW,
        jti: "reset-row-1".into(),
        uid: USER.into(),
        email: "ada@example.com".into(),
        purpose,
    }
}

/// Signs with the `jsonwebtoken` crate, as the issuing side does.
pub fn sign<T: Serialize>(claims: &T, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret).expect("key"),
    )
    .expect("encode")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hs256(message: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac key");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Builds a token by hand from raw header and payload JSON, HMAC-SHA256-signed with `secret`.
pub fn sign_raw(header_json: &str, payload_json: &str, secret: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        b64(header_json.as_bytes()),
        b64(payload_json.as_bytes())
    );
    let sig = hs256(message.as_bytes(), secret);
    format!("{message}.{}", b64(&sig))
}

pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The typical access claims as a JSON object, to be edited by a test.
pub fn access_json() -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(access_claims()).expect("json") {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Signs edited access claims with the active secret and a standard header.
pub fn sign_json(map: &serde_json::Map<String, serde_json::Value>) -> String {
    sign_raw(
        HS256_HEADER,
        &serde_json::Value::Object(map.clone()).to_string(),
        ACCESS,
    )
}

#[cfg(any(feature = "nats", feature = "redis"))]
/// A per-test random-enough prefix for shared services.
pub fn unique_prefix(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "jwtv{tag}{}x{}x{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

#[cfg(any(feature = "nats", feature = "redis"))]
/// Reads a required service URL, failing with a clear message when unset.
pub fn env_url(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} must be set for this test (the CI script exports it; see the crate README)")
    })
}
