//! Verifies the benchmark's typical access token N times, for instruction counts
//! (`valgrind --tool=callgrind`) rather than wall time.
//!
//! Run: `cargo run --release -p jwt-verify --example verify_loop -- cold 10000`
//! (`cold`: cache disabled, every call checks the signature and parses; `warm`: cache hits).
//! The per-verification cost is the difference of two runs with different N, divided by
//! the difference of N (that cancels the setup).

#[path = "../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;

use jwt_verify::{StaticRevocation, Verifier, VerifierConfig};
use support::{AUD, ISS, SECRET, now_or_never, typical_claims, typical_token};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "cold".to_owned());
    let n: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let claims = typical_claims();
    let token = typical_token(&claims);
    let revocation = Arc::new(StaticRevocation::new());
    revocation.set_token_version(&claims.uid, 3);
    let capacity = if mode == "warm" { 1024 } else { 0 };
    let verifier = Verifier::new(
        VerifierConfig::new(SECRET, ISS, AUD).with_cache_capacity(capacity),
        revocation,
    )
    .expect("config");
    let mut ok = 0u64;
    for _ in 0..n {
        if let Some(Ok(c)) = now_or_never(verifier.verify_access(black_box(&token))) {
            ok += u64::from(c.tv == 3);
        }
    }
    assert_eq!(ok, n, "every verification must succeed");
    println!("{mode}: {n} verifications of a {}-byte token", token.len());
}
