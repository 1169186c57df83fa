//! Flags, the HTTP client, simulated client addresses and latency statistics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};

/// `--name value` pairs.
pub struct Flags(HashMap<String, String>);

impl Flags {
    /// Parses `--name value` pairs.
    pub fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        let mut args = args.peekable();
        while let Some(a) = args.next() {
            let name = a
                .strip_prefix("--")
                .with_context(|| format!("expected --flag, got {a:?}"))?;
            let value = args
                .next()
                .with_context(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value);
        }
        Ok(Self(map))
    }

    /// A required flag.
    pub fn get(&self, name: &str) -> anyhow::Result<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("--{name} is required"))
    }

    /// A flag with a default, parsed.
    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name}: not a number: {v:?}")),
        }
    }
}

/// One keep-alive HTTP client for the whole run.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Simulated client addresses `10.<prefix>.x.y`, sent as `X-Forwarded-For`: the ingress
/// (a trusted proxy) appends the real peer, and the services' per-IP limiter (contract §8,
/// default 100 requests a minute) counts each simulated client on its own, as it would count
/// a population of real clients. The limiter runs as shipped; only the load looks like many
/// clients instead of one.
pub struct Clients {
    prefix: u8,
    next: AtomicU32,
}

impl Clients {
    /// Addresses under `10.<prefix>.0.0/16`.
    pub fn new(prefix: u8) -> Self {
        Self {
            prefix,
            next: AtomicU32::new(0),
        }
    }

    /// The next address (cycling through the /16).
    pub fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) & 0xffff;
        format!("10.{}.{}.{}", self.prefix, n >> 8, n & 0xff)
    }
}

/// Latencies in microseconds of one class of request.
#[derive(Default)]
pub struct Lat {
    /// Successful request latencies (µs).
    pub micros: Vec<u64>,
    /// Failed requests (transport error or unexpected status).
    pub errors: u64,
}

impl Lat {
    /// Records a success.
    pub fn ok(&mut self, d: Duration) {
        self.micros
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// The JSON summary over `secs` seconds.
    pub fn summary(&mut self, secs: f64) -> Value {
        self.micros.sort_unstable();
        let n = self.micros.len();
        let pct = |q: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let i = ((n as f64) * q).ceil() as usize;
            self.micros[i.clamp(1, n) - 1] as f64 / 1000.0
        };
        json!({
            "ops": n,
            "errors": self.errors,
            "secs": secs,
            "rps": n as f64 / secs.max(1e-9),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
        })
    }
}

/// Reads non-empty lines of a file.
pub fn lines(path: &str) -> anyhow::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("reading {path}"))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// Writes lines to a file.
pub fn write_lines(path: &str, lines: &[String]) -> anyhow::Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {path}"))
}

/// `POST {base}/auth/login` for one user; the parsed body on 200.
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    ip: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let resp = http
        .post(format!("{base}/auth/login"))
        .header("x-forwarded-for", ip)
        .json(body)
        .send()
        .await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "login answered {status}: {v}");
    Ok(v)
}

/// The access and refresh tokens of a login reply.
pub fn pair(login: &Value) -> anyhow::Result<(String, String)> {
    let t = &login["tokens"];
    match (t["access_token"].as_str(), t["refresh_token"].as_str()) {
        (Some(a), Some(r)) => Ok((a.to_owned(), r.to_owned())),
        _ => anyhow::bail!("login reply without tokens"),
    }
}
