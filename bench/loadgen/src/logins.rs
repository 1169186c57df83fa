//! `login` (W3): `--conns` clients log in back to back (`POST /auth/login` with the benchmark
//! app's `app_code`, accounts from `--users` in turn) for `--secs`; then no new login starts
//! and the run ends when the last one in flight has answered. Every bcrypt hash the server
//! started is therefore finished inside the measured window, so the server CPU of the window
//! divided by the logins is the true CPU per login (wrk would stop with hashes half done).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use crate::common::{Clients, Flags, Lat, client, lines, login};
use crate::seed::password;

/// Runs the subcommand.
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let base = flags.get("base")?.trim_end_matches('/').to_owned();
    let app_code = flags.get("app-code")?.to_owned();
    let users = Arc::new(lines(flags.get("users")?)?);
    anyhow::ensure!(!users.is_empty(), "no users");
    let conns: usize = flags.num("conns", 4)?;
    let secs: f64 = flags.num("secs", 15.0)?;
    let prefix: u8 = flags.num("xff-prefix", 22)?;
    let http = client()?;
    let ips = Arc::new(Clients::new(prefix));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut set = JoinSet::new();
    for _ in 0..conns {
        let (http, base, app_code, users, ips, next) = (
            http.clone(),
            base.clone(),
            app_code.clone(),
            users.clone(),
            ips.clone(),
            next.clone(),
        );
        set.spawn(async move {
            let mut lat = Lat::default();
            while Instant::now() < deadline {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let body = json!({"email": users[k % users.len()], "password": password(), "app_code": app_code});
                let t = Instant::now();
                match login(&http, &base, &ips.next(), &body).await {
                    Ok(_) => lat.ok(t.elapsed()),
                    Err(_) => lat.errors += 1,
                }
            }
            lat
        });
    }
    let mut all = Lat::default();
    while let Some(r) = set.join_next().await {
        let lat = r?;
        all.micros.extend(lat.micros);
        all.errors += lat.errors;
    }
    println!("{}", all.summary(start.elapsed().as_secs_f64()));
    Ok(())
}
