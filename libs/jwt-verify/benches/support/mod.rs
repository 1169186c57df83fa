//! The benchmark's fixture, shared by `benches/verify.rs` and `examples/verify_loop.rs`:
//! a typical access token (2 roles, 10 permissions, org and app claims) and its signer.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use jwt_verify::{AccessClaims, TokenType};

/// The access secret the token is signed with.
pub const SECRET: &[u8] = b"bench-access-secret-0123456789-abcdefghij";
/// The issuer.
pub const ISS: &str = "ven-auth";
/// The audience.
pub const AUD: &str = "ven-platform";

/// Claims of a typical user access token, valid for an hour from now.
pub fn typical_claims() -> AccessClaims {
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
    .unwrap_or(0);
    let s = |v: &str| v.to_owned();
    AccessClaims {
        iss: s(ISS),
        sub: s("6f1c7a52-3f0e-4a8e-9d55-0c1d2e3f4a5b"),
        aud: vec![s(AUD)],
        exp: now + 3600,
        nbf: now,
        iat: now,
        jti: s("0b8f3c1e-2d4a-4f6b-8c9d-1e2f3a4b5c6d"),
        uid: s("6f1c7a52-3f0e-4a8e-9d55-0c1d2e3f4a5b"),
        email: s("ada@example.com"),
        first_name: s("Ada"),
        last_name: s("Lovelace"),
        display_name: s("Ada L."),
        org_id: s("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
        org_slug: s("analytical"),
        org_name: s("Analytical Engines"),
        roles: vec![s("org_admin"), s("user")],
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
        .map(|p| s(p))
        .collect(),
        token_type: TokenType::Access,
        session_id: s("3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a"),
        remember_me: false,
        auth_provider: s("local"),
        tv: 3,
        app_id: s("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"),
        app_code: s("dashboard"),
        namespace: String::new(),
        imp_uid: String::new(),
        imp_email: String::new(),
    }
}

/// The typical claims signed HS256 with [`SECRET`] by `jsonwebtoken` (as the issuer does).
pub fn typical_token(claims: &AccessClaims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET).expect("key"),
    )
    .expect("encode")
}

/// Polls a future that completes without waiting (the static source answers at once).
pub fn now_or_never<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}
