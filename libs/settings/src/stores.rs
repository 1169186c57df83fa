//! [`DatabaseSettings`], [`RedisSettings`] and [`NatsSettings`]: where the data lives.

use std::time::Duration;

use crate::Secret;
use crate::reader::Env;

const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Postgres connection and pool.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DatabaseSettings {
    /// Connection URL: `DATABASE_URL` when set, else built from the `DB_*` parts.
    pub url: Secret,
    /// `DB_HOST`.
    pub host: String,
    /// `DB_PORT`.
    pub port: u16,
    /// `DB_USER`.
    pub user: String,
    /// `DB_PASSWORD`.
    pub password: Option<Secret>,
    /// `DB_NAME`.
    pub name: String,
    /// `DB_SSL_MODE`: disable, allow, prefer, require, verify-ca or verify-full.
    pub ssl_mode: String,
    /// `DB_MAX_OPEN_CONNS`: pool ceiling (≥ 1).
    pub max_open_conns: u32,
    /// `DB_MAX_IDLE_CONNS`: connections kept open when idle (≤ max open).
    pub max_idle_conns: u32,
    /// `DB_CONN_MAX_LIFETIME`: recycle connections after this long; zero = never.
    pub conn_max_lifetime: Duration,
    /// `MIGRATIONS_DIR`: SQL migrations applied at boot.
    pub migrations_dir: String,
}

impl DatabaseSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let host = env.string("DB_HOST", "localhost");
        let port = env.int("DB_PORT", 5432, 1, u16::MAX);
        let user = env.string("DB_USER", "postgres");
        let password = env.secret("DB_PASSWORD");
        let name = env.string("DB_NAME", "auth");
        let mut ssl_mode = env.string("DB_SSL_MODE", "disable").to_ascii_lowercase();
        if !SSL_MODES.contains(&ssl_mode.as_str()) {
            let msg = format!("must be one of {}, got {ssl_mode:?}", SSL_MODES.join(", "));
            env.problem("DB_SSL_MODE", msg);
            ssl_mode = "disable".into();
        }
        let max_open_conns = env.int("DB_MAX_OPEN_CONNS", 25, 1, 10_000);
        let max_idle_conns = env.int("DB_MAX_IDLE_CONNS", 5, 0, 10_000);
        if max_idle_conns > max_open_conns {
            let msg =
                format!("({max_idle_conns}) must not exceed DB_MAX_OPEN_CONNS ({max_open_conns})");
            env.problem("DB_MAX_IDLE_CONNS", msg);
        }
        let conn_max_lifetime = env.duration("DB_CONN_MAX_LIFETIME", Duration::from_secs(300));
        let url = match env.secret("DATABASE_URL") {
            Some(url) => {
                let lower = url.expose().trim().to_ascii_lowercase();
                if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
                    env.problem(
                        "DATABASE_URL",
                        "must start with postgres:// or postgresql://",
                    );
                }
                Secret::new(url.expose().trim())
            }
            None => {
                let auth = userinfo(&user, password.as_ref());
                let name_enc = encode(&name);
                let host_part = bracket(&host);
                Secret::new(format!(
                    "postgres://{auth}@{host_part}:{port}/{name_enc}?sslmode={ssl_mode}"
                ))
            }
        };
        Self {
            url,
            host,
            port,
            user,
            password,
            name,
            ssl_mode,
            max_open_conns,
            max_idle_conns,
            conn_max_lifetime,
            migrations_dir: env.string("MIGRATIONS_DIR", "./migrations"),
        }
    }
}

/// Redis connection. Optional: see [`RedisSettings::disabled`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisSettings {
    /// `REDIS_DISABLED` (our addition): `true` runs without Redis entirely, with the
    /// fallbacks of contract §5.4 (fail-open token cache, in-memory limiter, ...).
    pub disabled: bool,
    /// Connection URL: `REDIS_URL` when set, else built from the `REDIS_*` parts.
    pub url: Secret,
    /// `REDIS_HOST`.
    pub host: String,
    /// `REDIS_PORT`.
    pub port: u16,
    /// `REDIS_PASSWORD`.
    pub password: Option<Secret>,
    /// `REDIS_DB`: database index.
    pub db: u32,
    /// `REDIS_POOL_SIZE` (≥ 1).
    pub pool_size: u32,
    /// `REDIS_MIN_IDLE_CONNS` (≤ pool size).
    pub min_idle_conns: u32,
    /// `REDIS_KEY_PREFIX` (our addition): prepended to every key, default `auth:` as in
    /// the original (contract §5.4). Tests use a random one.
    pub key_prefix: String,
}

impl RedisSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let disabled = env.flag("REDIS_DISABLED", false);
        let host = env.string("REDIS_HOST", "localhost");
        let port = env.int("REDIS_PORT", 6379, 1, u16::MAX);
        let password = env.secret("REDIS_PASSWORD");
        let db = env.int("REDIS_DB", 0, 0, 10_000);
        let pool_size = env.int("REDIS_POOL_SIZE", 10, 1, 10_000);
        let min_idle_conns = env.int("REDIS_MIN_IDLE_CONNS", 2, 0, 10_000);
        if min_idle_conns > pool_size {
            let msg = format!("({min_idle_conns}) must not exceed REDIS_POOL_SIZE ({pool_size})");
            env.problem("REDIS_MIN_IDLE_CONNS", msg);
        }
        let url = match env.secret("REDIS_URL") {
            Some(url) => {
                let lower = url.expose().trim().to_ascii_lowercase();
                if !(lower.starts_with("redis://") || lower.starts_with("rediss://")) {
                    env.problem("REDIS_URL", "must start with redis:// or rediss://");
                }
                Secret::new(url.expose().trim())
            }
            None => {
                let auth = match &password {
                    Some(p) => format!(":{}@", encode(p.expose())),
                    None => String::new(),
                };
                Secret::new(format!("redis://{auth}{}:{port}/{db}", bracket(&host)))
            }
        };
        Self {
            disabled,
            url,
            host,
            port,
            password,
            db,
            pool_size,
            min_idle_conns,
            key_prefix: env.string("REDIS_KEY_PREFIX", "auth:"),
        }
    }

    /// True unless `REDIS_DISABLED=true`.
    pub fn enabled(&self) -> bool {
        !self.disabled
    }
}

/// NATS JetStream connection (our addition).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NatsSettings {
    /// `NATS_URL` (may carry credentials, hence secret).
    pub url: Secret,
    /// `NATS_PREFIX`: prepended to subject, stream and KV bucket names to isolate
    /// deployments or tests; letters, digits, `-` and `_` only. Empty by default.
    pub prefix: String,
    /// `REVOCATION_MAX_STALENESS`: how stale the token-version watcher may be before
    /// validation fails closed.
    pub revocation_max_staleness: Duration,
    /// `NATS_AUDIT_MAX_BYTES`: byte limit of the `AUDIT` stream (default 1 GiB). JetStream
    /// reserves it on disk up front and refuses new publishes past it (DiscardNew), so the
    /// outbox keeps events until the consumer catches up.
    pub audit_max_bytes: i64,
}

impl NatsSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let url = env
            .secret("NATS_URL")
            .map(|u| Secret::new(u.expose().trim()))
            .unwrap_or_else(|| Secret::new("nats://127.0.0.1:4222"));
        let lower = url.expose().to_ascii_lowercase();
        if !["nats://", "tls://", "ws://", "wss://"]
            .iter()
            .any(|s| lower.starts_with(s))
        {
            env.problem(
                "NATS_URL",
                "must start with nats://, tls://, ws:// or wss://",
            );
        }
        let mut prefix = env.string("NATS_PREFIX", "");
        if !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            let msg = format!("may only contain letters, digits, '-' and '_', got {prefix:?}");
            env.problem("NATS_PREFIX", msg);
            prefix.clear();
        }
        let revocation_max_staleness =
            env.positive_duration("REVOCATION_MAX_STALENESS", Duration::from_secs(10));
        let audit_max_bytes = env.int(
            "NATS_AUDIT_MAX_BYTES",
            1024 * 1024 * 1024,
            1024 * 1024,
            i64::MAX,
        );
        Self {
            url,
            prefix,
            revocation_max_staleness,
            audit_max_bytes,
        }
    }
}

/// `user[:password]` percent-encoded for a URL.
fn userinfo(user: &str, password: Option<&Secret>) -> String {
    match password {
        Some(p) => format!("{}:{}", encode(user), encode(p.expose())),
        None => encode(user),
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encode_escapes_reserved() {
        assert_eq!(encode("p@ss:w/rd é"), "p%40ss%3Aw%2Frd%20%C3%A9");
        assert_eq!(encode("plain-user_1.x~"), "plain-user_1.x~");
    }
}
