//! `seed`: prepares a running platform for the workloads, through its public API only.
//!
//! As the first `system_admin` (from `scripts/up`): creates an app (auto-grant on sign-in), an
//! m2m client, and imports users that share one bcrypt hash at `--cost` (the admin bulk import
//! takes existing hashes, so seeding does not pay one hash per user); then logs users in for
//! the tokens the workloads start from. Files written into `--out`:
//! `seed.env` (APP_CODE, PASSWORD, M2M_CLIENT_ID, M2M_CLIENT_SECRET), `users.txt` (W3 login
//! emails), `access.txt` (W2 and mixed bearer tokens), `refresh.txt` (W4 chains),
//! `refresh_mixed.txt` (mixed chains), `w5_users.txt` (W5 accounts, logged out again and again).

use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::common::{Clients, Flags, client, login, pair, write_lines};

const PASSWORD: &str = "Bench-Passw0rd-42";

/// Runs the subcommand.
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let base = flags.get("base")?.trim_end_matches('/').to_owned();
    let out = flags.get("out")?;
    let admin_email = flags.get("admin-email")?;
    let admin_password = flags.get("admin-password")?;
    let users: usize = flags.num("users", 64)?;
    let token_users: usize = flags.num("token-users", 16)?;
    let chains: usize = flags.num("chains", 32)?;
    let mixed_chains: usize = flags.num("mixed-chains", 16)?;
    let w5_users: usize = flags.num("w5-users", 50)?;
    let cost: u32 = flags.num("cost", 12)?;
    let http = client()?;
    let ips = Clients::new(250);
    std::fs::create_dir_all(out)?;

    let admin = login(
        &http,
        &base,
        &ips.next(),
        &json!({"email": admin_email, "password": admin_password}),
    )
    .await?;
    let (admin_token, _) = pair(&admin)?;
    let run_id = Uuid::new_v4().simple().to_string()[..10].to_owned();
    let app_code = format!("bench-{run_id}");
    post(
        &http,
        &base,
        &ips,
        &admin_token,
        "/admin/apps",
        &json!({"code": app_code, "name": "Benchmark app", "auto_grant_on_signup": true}),
    )
    .await?;
    let m2m_id = format!("bench-{run_id}");
    let m2m = post(
        &http,
        &base,
        &ips,
        &admin_token,
        "/admin/m2m-clients",
        &json!({"client_id": m2m_id, "name": "Benchmark client", "scopes": ["read", "write"]}),
    )
    .await?;
    let m2m_secret = m2m["client_secret"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("m2m reply without client_secret: {m2m}"))?
        .to_owned();

    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(PASSWORD, cost)).await??;
    let total = users + chains + mixed_chains + w5_users;
    let emails: Vec<String> = (0..total)
        .map(|i| format!("bench-{run_id}-{i}@example.com"))
        .collect();
    for batch in emails.chunks(500) {
        let rows: Vec<Value> = batch
            .iter()
            .map(|e| json!({"email": e, "password_hash": hash, "first_name": "Bench", "last_name": "User"}))
            .collect();
        let reply = post(
            &http,
            &base,
            &ips,
            &admin_token,
            "/admin/users/bulk-import",
            &json!({"users": rows}),
        )
        .await?;
        anyhow::ensure!(
            reply["created"].as_u64() == Some(batch.len() as u64),
            "bulk import did not create every user: {reply}"
        );
    }
    let (w3, rest) = emails.split_at(users);
    let (w4, rest) = rest.split_at(chains);
    let (mixed, w5) = rest.split_at(mixed_chains);

    let login_all = |list: Vec<String>| {
        let (http, base, app_code) = (http.clone(), base.clone(), app_code.clone());
        let ips: Vec<String> = list.iter().map(|_| ips.next()).collect();
        async move { login_many(&http, &base, &app_code, list, ips).await }
    };
    let w2_pairs = login_all(w3[..token_users.min(users)].to_vec()).await?;
    let w4_pairs = login_all(w4.to_vec()).await?;
    let mixed_pairs = login_all(mixed.to_vec()).await?;

    let firsts = |p: &[(String, String)]| p.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    let seconds = |p: &[(String, String)]| p.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    write_lines(&format!("{out}/users.txt"), w3)?;
    write_lines(&format!("{out}/w5_users.txt"), w5)?;
    write_lines(&format!("{out}/access.txt"), &firsts(&w2_pairs))?;
    write_lines(&format!("{out}/refresh.txt"), &seconds(&w4_pairs))?;
    write_lines(&format!("{out}/refresh_mixed.txt"), &seconds(&mixed_pairs))?;
    std::fs::write(
        format!("{out}/seed.env"),
        format!(
            "APP_CODE={app_code}\nPASSWORD={PASSWORD}\nM2M_CLIENT_ID={m2m_id}\nM2M_CLIENT_SECRET={m2m_secret}\n"
        ),
    )?;
    println!(
        "{}",
        json!({"app_code": app_code, "users": total, "m2m_client_id": m2m_id})
    );
    Ok(())
}

/// Logs every email in, four at a time; the (access, refresh) pairs in order.
pub async fn login_many(
    http: &reqwest::Client,
    base: &str,
    app_code: &str,
    emails: Vec<String>,
    ips: Vec<String>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(emails.len());
    let pairs: Vec<(String, String)> = emails.into_iter().zip(ips).collect();
    for chunk in pairs.chunks(4) {
        let mut set = JoinSet::new();
        for (i, (email, ip)) in chunk.iter().enumerate() {
            let (http, base) = (http.clone(), base.to_owned());
            let body = json!({"email": email, "password": PASSWORD, "app_code": app_code});
            let ip = ip.clone();
            set.spawn(async move { (i, login(&http, &base, &ip, &body).await) });
        }
        let mut got: Vec<(usize, (String, String))> = Vec::new();
        while let Some(r) = set.join_next().await {
            let (i, v) = r?;
            got.push((i, pair(&v?)?));
        }
        got.sort_by_key(|x| x.0);
        out.extend(got.into_iter().map(|x| x.1));
    }
    Ok(out)
}

/// The shared benchmark password (seeded users all have it).
pub fn password() -> &'static str {
    PASSWORD
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    ips: &Clients,
    token: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let resp = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-forwarded-for", ips.next())
        .json(body)
        .send()
        .await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "POST {path} answered {status}: {v}");
    Ok(v)
}
