//! The password-hashing pool (`identity::hasher::PasswordHasher`) against bare `bcrypt`:
//! - `cost4/*`: a cheap hash, so what shows is the pool's own cost per job (the queue, the
//!   hop to a pool thread and the reply) beside a bare `bcrypt::verify` on the caller;
//! - `cost12/*`: the production cost (W3 of the benchmark suite): one verification through the
//!   pool, bare, and the pool saturated with two jobs per thread (throughput = logins/s the
//!   pool can give at most on this machine; each thread hashes two jobs at once, see below);
//! - `*/ours_single` and `*/ours_pair`: the pool's own bcrypt core on the caller, one hash and
//!   two interleaved (`identity::hasher::compute_single` / `compute_pair`, what a pool thread
//!   runs); `ours_pair` counts two elements, so its throughput is hashes/s of one thread
//!   pairing.
//!
//! Run: `cargo bench -p identity --bench hasher`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use identity::hasher::yield_policy::YieldPolicy;
use identity::hasher::{PasswordHasher, compute_pair, compute_single, format};

const PASSWORD: &str = "Correct1Horse-battery";

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    for cost in [4u32, 12] {
        let hash = bcrypt::hash(PASSWORD, cost).expect("hash");
        let pool = PasswordHasher::per_core(cost);
        let mut group = c.benchmark_group(format!("cost{cost}"));
        if cost >= 10 {
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3));
        }
        group.bench_function("bare_bcrypt_verify", |b| {
            b.iter(|| bcrypt::verify(black_box(PASSWORD), black_box(&hash)).expect("verify"));
        });
        let parts = format::parse(&hash).expect("parse");
        let mut policy = YieldPolicy::for_current_thread();
        group.throughput(Throughput::Elements(1));
        group.bench_function("ours_single", |b| {
            b.iter(|| {
                let raw = compute_single(
                    cost,
                    &parts.salt,
                    black_box(PASSWORD.as_bytes()),
                    &mut policy,
                );
                assert!(format::matches(&parts, &raw));
            });
        });
        group.throughput(Throughput::Elements(2));
        group.bench_function("ours_pair", |b| {
            b.iter(|| {
                let pw = black_box(PASSWORD.as_bytes());
                let (x, y) = compute_pair(cost, (&parts.salt, pw), (&parts.salt, pw), &mut policy);
                assert!(format::matches(&parts, &x) && format::matches(&parts, &y));
            });
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function("pool_verify", |b| {
            b.iter(|| {
                rt.block_on(pool.verify(black_box(PASSWORD), Some(black_box(&hash))))
                    .expect("verify")
            });
        });
        // two jobs per pool thread at once: the pool's throughput when logins saturate it
        let jobs = cores() * 2;
        group.throughput(Throughput::Elements(jobs as u64));
        group.bench_with_input(
            BenchmarkId::new("pool_saturated", jobs),
            &jobs,
            |b, &jobs| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut set = tokio::task::JoinSet::new();
                        for _ in 0..jobs {
                            let (pool, hash) = (pool.clone(), hash.clone());
                            set.spawn(async move { pool.verify(PASSWORD, Some(&hash)).await });
                        }
                        while let Some(r) = set.join_next().await {
                            assert!(r.expect("join").expect("verify"));
                        }
                    });
                });
            },
        );
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
