//! `revoke` (W5): for each of `--rounds` accounts from `--users`, log in through the ingress
//! (`--base`), check that another process (`--check`, identity's own base URL, e.g.
//! `http://127.0.0.1:38081/api/v1`) accepts the access token on `GET /auth/me`, call
//! `POST /auth/logout/all` through the ingress (served by session), then poll `--check`
//! back to back until it refuses the token. The delay runs from the logout-all reply to the
//! first refusal. After the first refusal, `--after` more checks must all refuse: any accept
//! there, or an accept later than `--stale-ms` after the reply, is a stale accept.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Clients, Flags, Lat, client, lines};
use crate::seed::login_many;

/// Runs the subcommand.
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let base = flags.get("base")?.trim_end_matches('/').to_owned();
    let check = flags.get("check")?.trim_end_matches('/').to_owned();
    let app_code = flags.get("app-code")?;
    let users = lines(flags.get("users")?)?;
    let rounds: usize = flags.num("rounds", 30)?;
    let after: usize = flags.num("after", 20)?;
    let stale_ms: u64 = flags.num("stale-ms", 100)?;
    let prefix: u8 = flags.num("xff-prefix", 50)?;
    anyhow::ensure!(!users.is_empty(), "no W5 users");
    let http = client()?;
    let ips = Clients::new(prefix);
    // one login per account: a second token of the same account would already be revoked by
    // the first round's logout-all, so there are at most as many rounds as accounts
    let chosen: Vec<String> = users.iter().take(rounds).cloned().collect();
    let login_ips = chosen.iter().map(|_| ips.next()).collect();
    let pairs = login_many(&http, &base, app_code, chosen, login_ips).await?;

    let me = format!("{check}/auth/me");
    let accepts = |token: String, ip: String| {
        let (http, me) = (http.clone(), me.clone());
        async move {
            let resp = http
                .get(me)
                .bearer_auth(token)
                .header("x-forwarded-for", ip)
                .send()
                .await?;
            anyhow::Ok(resp.status().as_u16())
        }
    };
    let mut delays = Lat::default();
    let mut stale = 0u64;
    let mut checks = 0u64;
    for (access, _) in &pairs {
        anyhow::ensure!(
            accepts(access.clone(), ips.next()).await? == 200,
            "identity refuses a fresh token"
        );
        let resp = http
            .post(format!("{base}/auth/logout/all"))
            .bearer_auth(access)
            .header("x-forwarded-for", ips.next())
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "logout-all answered {}",
            resp.status()
        );
        let replied = Instant::now();
        loop {
            let status = accepts(access.clone(), ips.next()).await?;
            checks += 1;
            match status {
                200 => {
                    if replied.elapsed() > Duration::from_millis(stale_ms) {
                        stale += 1;
                    }
                    anyhow::ensure!(replied.elapsed() < Duration::from_secs(10), "never refused");
                }
                401 => break,
                other => anyhow::bail!("GET /auth/me answered {other}"),
            }
        }
        delays.ok(replied.elapsed());
        for _ in 0..after {
            checks += 1;
            if accepts(access.clone(), ips.next()).await? == 200 {
                stale += 1;
            }
        }
    }
    let mut summary = delays.summary(1.0);
    summary["stale_accepts"] = json!(stale);
    summary["checks"] = json!(checks);
    summary["rounds"] = json!(pairs.len());
    println!("{summary}");
    Ok(())
}
