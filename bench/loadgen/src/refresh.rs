//! `refresh` (W4): `--tokens` holds one refresh token per chain; each chain rotates as fast as
//! its replies come back for `--secs`, then the file is rewritten with every chain's newest
//! token so the next run continues the chains (an old token would trip reuse detection).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::common::{Clients, Flags, Lat, client, lines, write_lines};

/// One rotation: the next refresh token, or `None` on any failure.
pub async fn rotate(http: &reqwest::Client, url: &str, ip: &str, token: &str) -> Option<String> {
    let resp = http
        .post(url)
        .header("x-forwarded-for", ip)
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let v: Value = resp.json().await.ok()?;
    v["refresh_token"].as_str().map(str::to_owned)
}

/// Runs the subcommand.
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let base = flags.get("base")?.trim_end_matches('/').to_owned();
    let file = flags.get("tokens")?;
    let secs: f64 = flags.num("secs", 10.0)?;
    let prefix: u8 = flags.num("xff-prefix", 40)?;
    let tokens = lines(file)?;
    let http = client()?;
    let ips = Arc::new(Clients::new(prefix));
    let url = format!("{base}/auth/refresh");
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut set = JoinSet::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (http, url, ips) = (http.clone(), url.clone(), ips.clone());
        set.spawn(async move {
            let mut lat = Lat::default();
            let mut token = token;
            while Instant::now() < deadline {
                let t = Instant::now();
                match rotate(&http, &url, &ips.next(), &token).await {
                    Some(next) => {
                        lat.ok(t.elapsed());
                        token = next;
                    }
                    None => {
                        // the chain is dead (its token may have been consumed): stop it
                        lat.errors += 1;
                        break;
                    }
                }
            }
            (i, token, lat)
        });
    }
    let mut all = Lat::default();
    let mut newest = Vec::new();
    while let Some(r) = set.join_next().await {
        let (i, token, lat) = r?;
        all.micros.extend(lat.micros);
        all.errors += lat.errors;
        newest.push((i, token));
    }
    let elapsed = start.elapsed().as_secs_f64();
    newest.sort_by_key(|x| x.0);
    write_lines(file, &newest.into_iter().map(|x| x.1).collect::<Vec<_>>())?;
    println!("{}", all.summary(elapsed));
    Ok(())
}
