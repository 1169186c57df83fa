//! The two numbers, measured in one run on this machine:
//!
//! 1. password logins per second at `BCRYPT_COST` 12 against raw bcrypt verifications per
//!    second through the same code path: a `PasswordHasher` of its own (one thread per core,
//!    same priority, two jobs in progress per thread), kept saturated by as many callers as the
//!    login load uses, with no HTTP, database or tokens around it;
//!    Also against the `bcrypt` crate's own rate on the same cores (`bcrypt::verify` on one
//!    thread per core), the service's hasher before it had its own bcrypt core;
//! 2. `GET /auth/me` p99 when idle against its p99 while logins saturate the CPU.
//!
//! Six rounds of raw hashing (through the pool) then logins, 10 s each, so a slow spell of the
//! machine hits both sides; each round is printed, then the ratio of the totals and the median
//! `/auth/me` p99. The crate's rate is measured once, before the rounds.
//!
//! Needs the dev services (`DATABASE_URL`, `REDIS_URL`, `NATS_URL`). Run it optimised:
//! `cargo run --release -p identity --example login_bench`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

const PASSWORD: &str = "Correct1Horse";
const WINDOW: Duration = Duration::from_secs(10);
const ROUNDS: usize = 6;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Raw bcrypt verifications per second through a pool like the service's (`per_core`, so
/// the same threads, priority, yielding and lanes), kept busy by `cores() * 4` callers (the
/// login load's concurrency) for [`WINDOW`]; only verifications finished inside it count.
async fn raw_hashes_per_sec(hash: &str) -> f64 {
    let pool = identity::hasher::PasswordHasher::per_core(12);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let callers: Vec<_> = (0..cores() * 4)
        .map(|_| {
            let (stop, done, hash, pool) =
                (stop.clone(), done.clone(), hash.to_owned(), pool.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let ok = pool.verify(PASSWORD, Some(&hash)).await.unwrap_or(false);
                    assert!(ok);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(WINDOW).await;
    let finished = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for c in callers {
        let _ = c.await;
    }
    finished as f64 / elapsed
}

/// `bcrypt::verify` calls per second on one OS thread per core for [`WINDOW`] (only calls
/// finished inside it count).
fn crate_hashes_per_sec(hash: &str) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    let (finished, secs) = std::thread::scope(|scope| {
        for _ in 0..cores() {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    assert!(bcrypt::verify(PASSWORD, hash).unwrap_or(false));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(WINDOW);
        let counted = (done.load(Ordering::Relaxed), start.elapsed().as_secs_f64());
        stop.store(true, Ordering::Relaxed);
        counted
    });
    finished as f64 / secs
}

/// `/auth/me` p99 over `n` sequential requests; also prints p50, max and when the requests
/// slower than 2x the p50 came (clustered in one burst, or spread over the run).
async fn me_p99(client: &reqwest::Client, url: &str, token: &str, n: usize) -> Duration {
    let start = Instant::now();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let resp = client.get(url).bearer_auth(token).send().await.expect("me");
        assert!(resp.status().is_success());
        let _ = resp.bytes().await;
        times.push((t.elapsed(), t - start));
    }
    let mut sorted: Vec<Duration> = times.iter().map(|(d, _)| *d).collect();
    sorted.sort();
    let (p50, p99) = (sorted[n / 2], sorted[(n * 99 / 100).min(n - 1)]);
    let slow: Vec<Duration> = times
        .iter()
        .filter(|(d, _)| *d > p50 * 2)
        .map(|(_, at)| *at)
        .collect();
    let span = match (slow.first(), slow.last()) {
        (Some(first), Some(last)) => format!("between {first:.0?} and {last:.0?}"),
        _ => String::from("none"),
    };
    println!(
        "  /auth/me x{n}: p50 {p50:?}, p99 {p99:?}, max {:?}; {} slower than 2x p50, {span} of {:.0?}",
        sorted[n - 1],
        slow.len(),
        start.elapsed()
    );
    p99
}

#[tokio::main]
async fn main() {
    let app = testkit::TestApp::start(
        identity::NAME,
        identity::openapi(),
        &[
            ("AUTH_ALLOW_BASE_USER_LOGIN", "true"),
            ("BCRYPT_COST", "12"),
            ("AUTH_ACCOUNT_ATTEMPTS_LIMIT", "1000000"),
            ("RATE_LIMIT_REQUESTS", "1000000"),
            ("EMAIL_PROVIDER", "log"),
        ],
    )
    .await
    .expect("start identity");
    let hash = bcrypt::hash(PASSWORD, 12).expect("hash");
    // one user per login client, as real logins are (no row lock shared between them)
    let bodies: Vec<serde_json::Value> = (0..cores() * 4)
        .map(|i| json!({"email": format!("bench{i}@example.com"), "password": PASSWORD}))
        .collect();
    for body in &bodies {
        sqlx::query(
            "insert into users (email, password_hash, first_name, last_name, status)
             values ($2, $1, 'B', 'M', 'active')",
        )
        .bind(&hash)
        .bind(body["email"].as_str())
        .execute(&app.platform.db)
        .await
        .expect("user");
    }
    let client = reqwest::Client::new();
    let login_url = app.api("/auth/login");
    let first: serde_json::Value = client
        .post(&login_url)
        .json(&bodies[0])
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = first["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let me_url = app.api("/auth/me");
    me_p99(&client, &me_url, &token, 200).await; // warm-up
    let idle = me_p99(&client, &me_url, &token, 2000).await;

    let crate_rate = {
        let hash = hash.clone();
        tokio::task::spawn_blocking(move || crate_hashes_per_sec(&hash))
            .await
            .expect("crate rate")
    };
    let (mut raw_sum, mut logins_sum) = (0.0, 0.0);
    let mut busy = Vec::new();
    for round in 1..=ROUNDS {
        let raw = raw_hashes_per_sec(&hash).await;
        let (logins, me_busy) = logins_per_sec(&client, &login_url, &bodies, &me_url, &token).await;
        println!(
            "round {round}: raw bcrypt-12 {raw:.2}/s, logins {logins:.2}/s ({:.1}% of raw), \
             /auth/me p99 under load {me_busy:?} ({:.2}x idle)",
            logins / raw * 100.0,
            me_busy.as_secs_f64() / idle.as_secs_f64()
        );
        raw_sum += raw;
        logins_sum += logins;
        busy.push(me_busy);
    }
    busy.sort();
    let me_busy = busy[ROUNDS / 2];
    println!("cores: {}", cores());
    println!("over {ROUNDS} rounds (logins and raw hashing alternating, {WINDOW:?} each):");
    println!(
        "password logins/s:            {:.2} against raw {:.2} ({:.1}% of raw)",
        logins_sum / ROUNDS as f64,
        raw_sum / ROUNDS as f64,
        logins_sum / raw_sum * 100.0
    );
    println!(
        "                              {:.0}% of the bcrypt crate's {crate_rate:.2}/s on {} threads",
        logins_sum / ROUNDS as f64 / crate_rate * 100.0,
        cores()
    );
    println!("GET /auth/me p99 idle:        {idle:?}");
    println!(
        "GET /auth/me p99 under load:  {me_busy:?} ({:.2}x idle; median of the rounds)",
        me_busy.as_secs_f64() / idle.as_secs_f64()
    );
}

/// Password logins per second from one client per body (`cores() * 4`) for [`WINDOW`] (only
/// logins finished inside it count), and `/auth/me` p99 measured meanwhile.
async fn logins_per_sec(
    client: &reqwest::Client,
    login_url: &str,
    bodies: &[serde_json::Value],
    me_url: &str,
    token: &str,
) -> (f64, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = bodies
        .iter()
        .map(|body| {
            let (stop, ok, client, url, body) = (
                stop.clone(),
                ok.clone(),
                client.clone(),
                login_url.to_owned(),
                body.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let resp = client.post(&url).json(&body).send().await.expect("login");
                    if resp.status().is_success() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = resp.bytes().await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy = me_p99(client, me_url, token, 2000).await;
    let rest = WINDOW.saturating_sub(start.elapsed());
    tokio::time::sleep(rest).await;
    // logins finished inside the window only: in-flight ones completing later are not counted
    let finished = ok.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    (finished as f64 / elapsed, busy)
}
