//! `mixed`: open-loop load at fixed arrival rates: `GET /auth/me` (`--me-rate`/s, bearer
//! tokens from `--access`), `POST /auth/refresh` (`--refresh-rate`/s on the chains in
//! `--refresh`, rewritten at the end) and `POST /auth/login` (`--login-rate`/s, accounts from
//! `--users`, at most `--login-inflight` outstanding; arrivals beyond that are counted as
//! shed). Every latency runs from the request's scheduled start, so a stalled server shows
//! up in the percentiles instead of slowing the arrivals down. With both extra rates at 0 it
//! measures `/auth/me` alone at the same rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use crate::common::{Clients, Flags, Lat, client, lines, login, write_lines};
use crate::refresh::rotate;
use crate::seed::password;

type Shared = Arc<Mutex<Lat>>;

fn record(lat: &Shared, scheduled: tokio::time::Instant, ok: bool) {
    let mut l = lat
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if ok {
        l.ok(scheduled.elapsed());
    } else {
        l.errors += 1;
    }
}

/// Runs the subcommand.
#[allow(clippy::too_many_lines)]
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let base = flags.get("base")?.trim_end_matches('/').to_owned();
    let secs: f64 = flags.num("secs", 20.0)?;
    let me_rate: f64 = flags.num("me-rate", 1000.0)?;
    let refresh_rate: f64 = flags.num("refresh-rate", 0.0)?;
    let login_rate: f64 = flags.num("login-rate", 0.0)?;
    let login_inflight: u64 = flags.num("login-inflight", 16)?;
    let prefix: u8 = flags.num("xff-prefix", 60)?;
    let access = Arc::new(lines(flags.get("access")?)?);
    anyhow::ensure!(!access.is_empty(), "no access tokens");
    let http = client()?;
    let ips = Arc::new(Clients::new(prefix));
    let chains_file = flags.get("refresh").ok().map(str::to_owned);
    let chains = Arc::new(Mutex::new(match &chains_file {
        Some(f) if refresh_rate > 0.0 => lines(f)?,
        _ => Vec::new(),
    }));
    let users = match flags.get("users") {
        Ok(f) if login_rate > 0.0 => lines(f)?,
        _ => Vec::new(),
    };
    let app_code = flags.get("app-code").unwrap_or("").to_owned();

    let (me_lat, refresh_lat, login_lat): (Shared, Shared, Shared) = Default::default();
    let no_chain = Arc::new(AtomicU64::new(0));
    let shed = Arc::new(AtomicU64::new(0));
    let inflight = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(secs);
    let mut tickers = JoinSet::new();

    // GET /auth/me
    {
        let (http, ips, access, lat) = (http.clone(), ips.clone(), access.clone(), me_lat.clone());
        let url = format!("{base}/auth/me");
        tickers.spawn(schedule(me_rate, start, end, move |k, due| {
            let (http, url, lat) = (http.clone(), url.clone(), lat.clone());
            let token = access[k % access.len()].clone();
            let ip = ips.next();
            async move {
                let ok = match http
                    .get(url)
                    .bearer_auth(token)
                    .header("x-forwarded-for", ip)
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                record(&lat, due, ok);
            }
        }));
    }
    // POST /auth/refresh on free chains
    if refresh_rate > 0.0 {
        let (http, ips, chains, lat, no_chain) = (
            http.clone(),
            ips.clone(),
            chains.clone(),
            refresh_lat.clone(),
            no_chain.clone(),
        );
        let url = format!("{base}/auth/refresh");
        tickers.spawn(schedule(refresh_rate, start, end, move |_, due| {
            let (http, url, lat, chains, no_chain) = (
                http.clone(),
                url.clone(),
                lat.clone(),
                chains.clone(),
                no_chain.clone(),
            );
            let ip = ips.next();
            async move {
                let token = chains
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop();
                let Some(token) = token else {
                    no_chain.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let next = rotate(&http, &url, &ip, &token).await;
                record(&lat, due, next.is_some());
                if let Some(next) = next {
                    chains
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(0, next);
                }
            }
        }));
    }
    // POST /auth/login
    if login_rate > 0.0 && !users.is_empty() {
        let (http, ips, lat, shed, inflight) = (
            http.clone(),
            ips.clone(),
            login_lat.clone(),
            shed.clone(),
            inflight.clone(),
        );
        let users = Arc::new(users);
        let url_base = base.clone();
        tickers.spawn(schedule(login_rate, start, end, move |k, due| {
            let (http, base, lat, shed, inflight) = (
                http.clone(),
                url_base.clone(),
                lat.clone(),
                shed.clone(),
                inflight.clone(),
            );
            let body = json!({"email": users[k % users.len()], "password": password(), "app_code": app_code});
            let ip = ips.next();
            async move {
                if inflight.fetch_add(1, Ordering::Relaxed) >= login_inflight {
                    inflight.fetch_sub(1, Ordering::Relaxed);
                    shed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let ok = login(&http, &base, &ip, &body).await.is_ok();
                inflight.fetch_sub(1, Ordering::Relaxed);
                record(&lat, due, ok);
            }
        }));
    }
    let started = Instant::now();
    while let Some(r) = tickers.join_next().await {
        r?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let take = |l: &Shared| -> Value {
        l.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .summary(elapsed.min(secs))
    };
    if let (Some(f), true) = (chains_file, refresh_rate > 0.0) {
        let left = chains
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        write_lines(&f, &left)?;
    }
    println!(
        "{}",
        json!({
            "me": take(&me_lat),
            "refresh": take(&refresh_lat),
            "login": take(&login_lat),
            "refresh_no_free_chain": no_chain.load(Ordering::Relaxed),
            "login_shed": shed.load(Ordering::Relaxed),
        })
    );
    Ok(())
}

/// Spawns `make(k, due)` at `rate` per second from `start` until `end`, then waits for every
/// spawned request.
async fn schedule<F, Fut>(
    rate: f64,
    start: tokio::time::Instant,
    end: tokio::time::Instant,
    make: F,
) where
    F: Fn(usize, tokio::time::Instant) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let period = Duration::from_secs_f64(1.0 / rate.max(1e-6));
    let mut running = JoinSet::new();
    let mut k = 0usize;
    loop {
        let due = start + period.mul_f64(k as f64);
        if due >= end {
            break;
        }
        sleep_until(due).await;
        running.spawn(make(k, due));
        k += 1;
        // reap finished requests so the set stays small
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}
