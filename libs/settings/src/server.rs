//! [`ServerSettings`]: listen addresses, timeouts, API prefix, environment, log level.

use std::time::Duration;

use crate::reader::Env;

/// HTTP listener and process-wide settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerSettings {
    /// `SERVER_HOST`: interface to bind.
    pub host: String,
    /// `SERVER_PORT`: the all-in-one / ingress port.
    pub port: u16,
    /// `IDENTITY_PORT`: identity service listen port.
    pub identity_port: u16,
    /// `SESSION_PORT`: session service listen port.
    pub session_port: u16,
    /// `AUTHZ_PORT`: authz service listen port.
    pub authz_port: u16,
    /// `AUDIT_PORT`: audit service listen port.
    pub audit_port: u16,
    /// `SERVER_READ_TIMEOUT`.
    pub read_timeout: Duration,
    /// `SERVER_WRITE_TIMEOUT`.
    pub write_timeout: Duration,
    /// `SERVER_SHUTDOWN_TIMEOUT`: grace period for in-flight requests.
    pub shutdown_timeout: Duration,
    /// `API_PREFIX`: empty or `/segment...` without a trailing slash.
    pub api_prefix: String,
    /// `ENVIRONMENT`: `development`, `production`, or any other label.
    pub environment: String,
    /// `LOG_LEVEL`: one of trace, debug, info, warn, error (lower case).
    pub log_level: String,
    /// `API_DOCS_ENABLED` (our addition): serve `/openapi.json` and `/docs`. Defaults to
    /// true, except in production where the documents are not exposed unless asked for.
    pub api_docs: bool,
}

impl ServerSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let environment = env.string("ENVIRONMENT", "development");
        let production = environment.eq_ignore_ascii_case("production");
        let port = |env: &mut Env, var: &str, default: u16| env.int(var, default, 0, u16::MAX);
        Self {
            host: env.string("SERVER_HOST", "0.0.0.0"),
            port: port(env, "SERVER_PORT", 8080),
            identity_port: port(env, "IDENTITY_PORT", 8081),
            session_port: port(env, "SESSION_PORT", 8082),
            authz_port: port(env, "AUTHZ_PORT", 8083),
            audit_port: port(env, "AUDIT_PORT", 8084),
            read_timeout: env.positive_duration("SERVER_READ_TIMEOUT", Duration::from_secs(15)),
            write_timeout: env.positive_duration("SERVER_WRITE_TIMEOUT", Duration::from_secs(15)),
            shutdown_timeout: env.duration("SERVER_SHUTDOWN_TIMEOUT", Duration::from_secs(30)),
            api_prefix: api_prefix(env),
            environment,
            log_level: log_level(env),
            api_docs: env.flag("API_DOCS_ENABLED", !production),
        }
    }

    /// True when `ENVIRONMENT` is `production` (any case): enables HSTS and JSON logs and
    /// forbids `CORS_ORIGINS=*`.
    pub fn is_production(&self) -> bool {
        self.environment.eq_ignore_ascii_case("production")
    }

    /// `host:port` for binding, with brackets around an IPv6 host.
    pub fn bind_addr(&self, port: u16) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{port}", self.host)
        } else {
            format!("{}:{port}", self.host)
        }
    }
}

fn api_prefix(env: &mut Env) -> String {
    let raw = env.string("API_PREFIX", "");
    let trimmed = raw.trim_end_matches('/');
    let valid = trimmed.is_empty()
        || (trimmed.starts_with('/')
            && !trimmed.contains("//")
            && trimmed
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c)));
    if !valid {
        let msg = format!("must be empty or a path such as \"/api/v1\", got {raw:?}");
        env.problem("API_PREFIX", msg);
        return String::new();
    }
    trimmed.to_owned()
}

fn log_level(env: &mut Env) -> String {
    let raw = env.string("LOG_LEVEL", "info");
    match raw.to_ascii_lowercase().as_str() {
        level @ ("trace" | "debug" | "info" | "warn" | "error") => level.to_owned(),
        "warning" => "warn".to_owned(),
        _ => {
            let msg = format!("must be one of trace, debug, info, warn, error, got {raw:?}");
            env.problem("LOG_LEVEL", msg);
            "info".to_owned()
        }
    }
}
