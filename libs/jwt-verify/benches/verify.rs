//! Verifying a typical access token: bare `jsonwebtoken::decode` vs `Verifier::verify_access`
//! (warm: the token was verified before and is in the verifier's cache; cold: no cache).
//!
//! Run: `cargo bench -p jwt-verify --bench verify`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use jwt_verify::{AccessClaims, StaticRevocation, TokenType, Verifier, VerifierConfig};

const SECRET: &[u8] = b"bench-access-secret-0123456789-abcdefghij";
const ISS: &str = "ven-auth";
const AUD: &str = "ven-platform";

fn typical_claims() -> AccessClaims {
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

/// Polls a future that completes without waiting (the static source answers at once).
fn now_or_never<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

fn bench(c: &mut Criterion) {
    let claims = typical_claims();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET).expect("key"),
    )
    .expect("encode");

    let key = jsonwebtoken::DecodingKey::from_secret(SECRET).expect("key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.leeway = 30;
    validation.validate_nbf = true;

    let revocation = Arc::new(StaticRevocation::new());
    revocation.set_token_version(&claims.uid, 3);
    let verifier =
        Verifier::new(VerifierConfig::new(SECRET, ISS, AUD), revocation.clone()).expect("config");
    let uncached = Verifier::new(
        VerifierConfig::new(SECRET, ISS, AUD).with_cache_capacity(0),
        revocation,
    )
    .expect("config");
    let expected = Some(Ok(claims.clone()));
    assert_eq!(now_or_never(verifier.verify_access(&token)), expected);
    assert_eq!(now_or_never(uncached.verify_access(&token)), expected);
    assert!(jsonwebtoken::decode::<AccessClaims>(&token, &key, &validation).is_ok());

    let mut group = c.benchmark_group("verify");
    group.bench_function("jsonwebtoken_decode_value", |b| {
        b.iter(|| jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &key, &validation))
    });
    group.bench_function("jsonwebtoken_decode_claims", |b| {
        b.iter(|| jsonwebtoken::decode::<AccessClaims>(black_box(&token), &key, &validation))
    });
    // Warm: the same token each time, as while one session makes requests (cache hit).
    group.bench_function("verifier_verify_access", |b| {
        b.iter(|| now_or_never(verifier.verify_access(black_box(&token))))
    });
    // Cold: cache disabled, so every call checks the signature and parses the claims.
    group.bench_function("verifier_verify_access_cold", |b| {
        b.iter(|| now_or_never(uncached.verify_access(black_box(&token))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
