//! Real binaries as child processes: a service started with a test environment, its port
//! read from its own "listening" log line, its output kept for assertions and failures.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::{TestDb, unique_prefix};

/// Access-token secret every spawned test process shares (≥ 32 characters, not weak).
pub const TEST_ACCESS_SECRET: &str = "tk-access-Qm7vR2xL9pW4sN8cZ3hJ6fB1dK5gT0yE";
/// Refresh-token secret every spawned test process shares.
pub const TEST_REFRESH_SECRET: &str = "tk-refresh-Hy4nU8kD2wA6qS1mV9cX3rF7jL5bP0zG";
/// The API prefix the test processes (and the ingress) use.
pub const TEST_API_PREFIX: &str = "/api/v1";

/// A fresh database plus random Redis and NATS prefixes: what one test's processes share.
pub struct TestEnv {
    /// The test's database.
    pub db: TestDb,
    /// Prefix of every Redis key of this test.
    pub redis_prefix: String,
    /// Prefix of every NATS subject, stream and bucket of this test.
    pub nats_prefix: String,
}

impl TestEnv {
    /// A new environment (fresh database from the migrated template).
    pub async fn new() -> Self {
        Self {
            db: TestDb::new().await,
            redis_prefix: format!("{}:", unique_prefix("t")),
            nats_prefix: format!("{}_", unique_prefix("t")),
        }
    }

    /// [`TestEnv::vars`] with `overrides` replacing (or adding) variables, e.g. the URLs of
    /// a test's [`crate::PrivateServer`]s.
    pub fn vars_with(&self, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut vars = self.vars();
        vars.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
        vars.extend(
            overrides
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        vars
    }

    /// The environment variables of a service process of this test.
    pub fn vars(&self) -> Vec<(String, String)> {
        let required = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} must be set for the tests (scripts/test sets it)")
            })
        };
        [
            ("DATABASE_URL", self.db.url().to_owned()),
            ("REDIS_URL", required("REDIS_URL")),
            ("REDIS_KEY_PREFIX", self.redis_prefix.clone()),
            ("NATS_URL", required("NATS_URL")),
            ("NATS_PREFIX", self.nats_prefix.clone()),
            // JetStream reserves each stream's limit on disk: keep hundreds of tests' streams small
            ("NATS_AUDIT_MAX_BYTES", (64 * 1024 * 1024).to_string()),
            ("JWT_ACCESS_SECRET", TEST_ACCESS_SECRET.to_owned()),
            ("JWT_REFRESH_SECRET", TEST_REFRESH_SECRET.to_owned()),
            ("API_PREFIX", TEST_API_PREFIX.to_owned()),
            ("SERVER_HOST", "127.0.0.1".to_owned()),
            ("TRUSTED_PROXIES", "127.0.0.1/32".to_owned()),
            ("RATE_LIMIT_REQUESTS", "100000".to_owned()),
            ("BCRYPT_COST", "10".to_owned()),
            ("LOG_LEVEL", "info".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// The path of a workspace binary (`AUTH_BIN_DIR`, else the workspace's `target/debug`).
pub fn binary_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("AUTH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug"));
    dir.join(name)
}

/// A running service binary. Killed on drop.
pub struct ServiceProcess {
    /// The binary's name.
    pub name: String,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
}

impl ServiceProcess {
    /// Starts `binary` with `vars`, `port_var=0`, and waits (up to 60 s) for its
    /// "listening" line to learn the port.
    pub async fn spawn(
        binary: &str,
        vars: &[(String, String)],
        port_var: &str,
    ) -> anyhow::Result<Self> {
        let path = binary_path(binary);
        if !path.exists() {
            bail!(
                "{} not found: run `cargo build --workspace --bins` first",
                path.display()
            );
        }
        let mut child = Command::new(&path)
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(port_var, "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, mut port_rx) = tokio::sync::mpsc::unbounded_channel();
        for stream in [
            child.stdout.take().map(Reader::Out),
            child.stderr.take().map(Reader::Err),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            let port_tx = port_tx.clone();
            tokio::spawn(async move { stream.drain(output, port_tx).await });
        }
        drop(port_tx);
        let port = tokio::time::timeout(Duration::from_secs(60), port_rx.recv()).await;
        let lines = || output.lock().map(|l| l.join("\n")).unwrap_or_default();
        match port {
            Ok(Some(port)) => Ok(Self {
                name: binary.to_owned(),
                port,
                child,
                output,
            }),
            _ => bail!("{binary} did not report its port; output:\n{}", lines()),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Sends SIGKILL and waits for the process to end.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

enum Reader {
    Out(tokio::process::ChildStdout),
    Err(tokio::process::ChildStderr),
}

impl Reader {
    async fn drain(
        self,
        output: Arc<Mutex<Vec<String>>>,
        port_tx: tokio::sync::mpsc::UnboundedSender<u16>,
    ) {
        let mut lines: Box<dyn tokio::io::AsyncBufRead + Unpin + Send> = match self {
            Self::Out(s) => Box::new(BufReader::new(s)),
            Self::Err(s) => Box::new(BufReader::new(s)),
        };
        let mut line = String::new();
        while matches!(lines.read_line(&mut line).await, Ok(n) if n > 0) {
            let text = line.trim_end().to_owned();
            if let Some(port) = listening_port(&text) {
                let _ = port_tx.send(port);
            }
            if let Ok(mut all) = output.lock() {
                all.push(text);
            }
            line.clear();
        }
    }
}

/// The port of an `auth_host` "listening ... port=N" log line.
fn listening_port(line: &str) -> Option<u16> {
    if !line.contains("listening") {
        return None;
    }
    let rest = line.split("port=").nth(1)?;
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
        .filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_port_of_a_listening_line() {
        let line =
            "2026-11-30T07:24:51Z  INFO auth_host: listening service=\"identity\" port=18081";
        assert_eq!(super::listening_port(line), Some(18081));
        assert_eq!(
            super::listening_port("poem::server: listening addr=socket://0.0.0.0:0"),
            None
        );
    }
}
