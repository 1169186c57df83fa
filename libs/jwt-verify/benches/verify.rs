//! Verifying a typical access token: bare `jsonwebtoken::decode` vs `Verifier::verify_access`
//! (warm: the token was verified before and is in the verifier's cache; cold: no cache).
//!
//! Run: `cargo bench -p jwt-verify --bench verify`.

mod support;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use jwt_verify::{AccessClaims, StaticRevocation, Verifier, VerifierConfig};
use support::{AUD, ISS, SECRET, now_or_never, typical_claims, typical_token};

fn bench(c: &mut Criterion) {
    let claims = typical_claims();
    let token = typical_token(&claims);

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
