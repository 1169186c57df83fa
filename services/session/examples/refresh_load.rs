//! Load benchmark of the session service (run by `bench/refresh.sh` against a durable
//! Postgres): refresh rotations/s and latency at `CHAINS` concurrent refresh chains, database
//! statements per rotation (from `pg_stat_statements` when the server has it loaded),
//! `POST /auth/validate` and `GET /auth/sessions` requests/s, and the delay until a second
//! replica refuses an access token after logout-all on the first.
//!
//! Environment: `DATABASE_URL` (a database this program may fill), `REDIS_URL`, `NATS_URL`,
//! optional `CHAINS` (32), `SECS` (20 per phase), `PROPAGATION_ROUNDS` (100).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use auth_host::{Application, Platform, api_endpoint};
use auth_settings::Settings;
use auth_tokens::{DeviceInfo, Family, IssueRequest, UserIdentity, assemble, issue_pair};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

struct Node {
    platform: Platform,
    base: String,
}

impl Node {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn vars(prefix: &str) -> anyhow::Result<Vec<(String, String)>> {
    let need = |n: &str| std::env::var(n).with_context(|| format!("{n} must be set"));
    Ok([
        ("DATABASE_URL", need("DATABASE_URL")?),
        ("REDIS_URL", need("REDIS_URL")?),
        ("REDIS_KEY_PREFIX", format!("{prefix}:")),
        ("NATS_URL", need("NATS_URL")?),
        ("NATS_PREFIX", format!("{prefix}_")),
        (
            "JWT_ACCESS_SECRET",
            "bench-access-Vq8rT3nL6xW1pZ9cK4mJ7hB2fD5gS0yE".into(),
        ),
        (
            "JWT_REFRESH_SECRET",
            "bench-refresh-Nx5uK9dA2wQ6sM1vC8rF3jL7bP4zG0hY".into(),
        ),
        ("API_PREFIX", "/api/v1".into()),
        ("SERVER_HOST", "127.0.0.1".into()),
        ("RATE_LIMIT_REQUESTS", "100000000".into()),
        ("DB_MAX_OPEN_CONNS", env_or("DB_MAX_OPEN_CONNS", "40")),
        ("DB_MAX_IDLE_CONNS", "40".into()),
        ("LOG_LEVEL", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect())
}

async fn start(vars: Vec<(String, String)>) -> anyhow::Result<Node> {
    let settings = Settings::from_vars(vars)?;
    let platform = Platform::start(settings, session::NAME).await?;
    let endpoint = api_endpoint(&platform, session::NAME, session::openapi());
    let app = Application::bind(platform.clone(), 0, endpoint).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(Node { platform, base })
}

async fn new_user(platform: &Platform) -> anyhow::Result<Uuid> {
    let email = format!("bench-{}@example.com", Uuid::new_v4());
    let id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status) values ($1, 'B', 'U', 'active')
         returning id",
    )
    .bind(&email)
    .fetch_one(&platform.db)
    .await?;
    sqlx::query(
        "insert into user_base_roles (user_id, role_id)
         select $1, id from roles where code = 'base_user' and organization_id is null",
    )
    .bind(id)
    .execute(&platform.db)
    .await?;
    Ok(id)
}

async fn login(platform: &Platform, user: Uuid) -> anyhow::Result<(String, String)> {
    let mut conn = platform.db.acquire().await?;
    let (email, tv): (String, i64) =
        sqlx::query_as("select email, token_version from users where id = $1")
            .bind(user)
            .fetch_one(&mut *conn)
            .await?;
    let grants = assemble(&mut conn, user, None, None).await?;
    let req = IssueRequest {
        user: UserIdentity {
            id: user,
            email,
            first_name: "B".into(),
            last_name: "U".into(),
            display_name: String::new(),
            auth_provider: "local".into(),
            namespace: "default".into(),
            token_version: tv,
        },
        grants,
        app: None,
        remember_me: false,
        device: DeviceInfo::default(),
        impersonator: None,
        family: Family::New,
    };
    let issued = issue_pair(&mut conn, &platform.signer, &req).await?;
    Ok((issued.tokens.access_token, issued.tokens.refresh_token))
}

struct Stats {
    ok: u64,
    failed: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Stats {
    fn report(&mut self, what: &str) {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let n = self.latencies.len();
            if n == 0 {
                return Duration::ZERO;
            }
            let i = ((n as f64) * p).ceil() as usize;
            self.latencies[i.clamp(1, n) - 1]
        };
        println!(
            "{what}: {} ok, {} failed in {:.1}s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.ok,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.ok as f64 / self.elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            pct(1.0).as_secs_f64() * 1e3,
        );
    }
}

/// Runs `workers` loops of `step` for `secs`, collecting latencies.
async fn drive<F, Fut>(workers: usize, secs: u64, step: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let step = Arc::new(step);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let step = step.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let (mut ok, mut failed) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if step(w).await {
                        ok += 1;
                        lat.push(t.elapsed());
                    } else {
                        failed += 1;
                    }
                }
                (ok, failed, lat)
            })
        })
        .collect();
    let mut stats = Stats {
        ok: 0,
        failed: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        if let Ok((ok, failed, lat)) = t.await {
            stats.ok += ok;
            stats.failed += failed;
            stats.latencies.extend(lat);
        }
    }
    stats.elapsed = start.elapsed();
    stats
}

/// (query text, calls) from `pg_stat_statements` for this database, if loaded.
async fn statements(db: &sqlx::PgPool) -> Option<Vec<(String, i64)>> {
    sqlx::query_as(
        "select left(regexp_replace(query, '\\s+', ' ', 'g'), 70), calls
           from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())
          order by calls desc limit 12",
    )
    .fetch_all(db)
    .await
    .ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let chains: usize = env_or("CHAINS", "32").parse()?;
    let secs: u64 = env_or("SECS", "20").parse()?;
    let rounds: usize = env_or("PROPAGATION_ROUNDS", "100").parse()?;
    let prefix = format!("bench{}", &Uuid::new_v4().simple().to_string()[..8]);
    let vars = vars(&prefix)?;
    let a = Arc::new(start(vars.clone()).await?);
    let b = Arc::new(start(vars).await?);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let settings: (String, String) =
        sqlx::query_as("select current_setting('synchronous_commit'), current_setting('fsync')")
            .fetch_one(&a.platform.db)
            .await?;
    println!(
        "postgres synchronous_commit={} fsync={}; {chains} chains, {secs}s per phase",
        settings.0, settings.1
    );

    // phase 1: refresh chains
    let mut tokens = Vec::new();
    for _ in 0..chains {
        let user = new_user(&a.platform).await?;
        tokens.push(Mutex::new(login(&a.platform, user).await?));
    }
    let tokens = Arc::new(tokens);
    let has_pgss = sqlx::query("select pg_stat_statements_reset()")
        .execute(&a.platform.db)
        .await
        .is_ok();
    let (c, t, node) = (http.clone(), tokens.clone(), a.clone());
    let mut refresh = drive(chains, secs, move |w| {
        let (c, t, url) = (c.clone(), t.clone(), node.url("/auth/refresh"));
        async move {
            let mut slot = t[w].lock().await;
            let body = json!({ "refresh_token": slot.1 });
            let Ok(resp) = c.post(url).json(&body).send().await else {
                return false;
            };
            if !resp.status().is_success() {
                return false;
            }
            let Ok(v) = resp.json::<Value>().await else {
                return false;
            };
            match (v["access_token"].as_str(), v["refresh_token"].as_str()) {
                (Some(a), Some(r)) => {
                    *slot = (a.to_owned(), r.to_owned());
                    true
                }
                _ => false,
            }
        }
    })
    .await;
    refresh.report("POST /auth/refresh (rotation)");
    if has_pgss {
        if let Some(rows) = statements(&a.platform.db).await {
            println!("statements in the database during the refresh phase (pg_stat_statements):");
            for (q, calls) in rows {
                println!(
                    "  {calls:>8} ({:.3}/rotation)  {q}",
                    calls as f64 / refresh.ok.max(1) as f64
                );
            }
        }
    } else {
        println!("pg_stat_statements not loaded: statement counts skipped");
    }

    // phase 2: /auth/validate and GET /auth/sessions with the chains' access tokens
    let (c, t, node) = (http.clone(), tokens.clone(), a.clone());
    let mut validate = drive(chains, secs, move |w| {
        let (c, t, url) = (c.clone(), t.clone(), node.url("/auth/validate"));
        async move {
            let token = t[w].lock().await.0.clone();
            match c.post(url).json(&json!({ "token": token })).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["valid"] == json!(true)),
                Err(_) => false,
            }
        }
    })
    .await;
    validate.report("POST /auth/validate");
    let (c, t, node) = (http.clone(), tokens.clone(), a.clone());
    let mut list = drive(chains, secs, move |w| {
        let (c, t, url) = (c.clone(), t.clone(), node.url("/auth/sessions"));
        async move {
            let token = t[w].lock().await.0.clone();
            c.get(url)
                .bearer_auth(token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    list.report("GET /auth/sessions (bearer via jwt-verify + one query)");

    // phase 3: logout-all on replica A, until replica B refuses the old token
    let mut delays = Vec::new();
    for _ in 0..rounds {
        let user = new_user(&a.platform).await?;
        let (access, _) = login(&a.platform, user).await?;
        let valid_b = |token: String| {
            let (c, url) = (http.clone(), b.url("/auth/validate"));
            async move {
                c.post(url)
                    .json(&json!({ "token": token }))
                    .send()
                    .await?
                    .json::<Value>()
                    .await
                    .map(|v| v["valid"] == json!(true))
            }
        };
        anyhow::ensure!(valid_b(access.clone()).await?, "B refuses a fresh token");
        let resp = http
            .post(a.url("/auth/logout/all"))
            .bearer_auth(&access)
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "logout-all failed");
        let t = Instant::now();
        while valid_b(access.clone()).await? {
            anyhow::ensure!(t.elapsed() < Duration::from_secs(10), "B never refused");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        delays.push(t.elapsed());
    }
    delays.sort_unstable();
    if let (Some(first), Some(last)) = (delays.first(), delays.last()) {
        let p99 = delays[((delays.len() as f64 * 0.99).ceil() as usize).clamp(1, delays.len()) - 1];
        println!(
            "logout-all on A until B refuses ({rounds} rounds): min {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            first.as_secs_f64() * 1e3,
            delays[delays.len() / 2].as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            last.as_secs_f64() * 1e3
        );
    }
    a.platform.shutdown.cancel();
    b.platform.shutdown.cancel();
    Ok(())
}
