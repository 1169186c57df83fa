//! Private Redis and NATS servers that one test owns, stops and starts again (fault tests,
//! SECURITY B.12). Never the shared dev servers: those are never stopped.
//!
//! Each server listens on a free loopback port that it keeps across [`PrivateServer::stop`] /
//! [`PrivateServer::start`], so clients configured with its URL reconnect by themselves.
//! State lives in a temporary directory removed on drop; the process is killed on drop.
//!
//! - Redis: `redis-server` from `PATH` (or `REDIS_SERVER_BIN`), nothing saved to disk, so a
//!   restart comes back empty (FLT-02).
//! - NATS: `NATS_SERVER_BIN`, else `/opt/nats-server-2.15.1/bin/nats-server`, with JetStream
//!   on and its store in the temporary directory (kept across restarts, as on a real server);
//!   `max_file_store` is large as in `scripts/lib/deps.sh`, because JetStream reserves every
//!   stream's byte limit on disk.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

/// Default location of the nats-server binary (`scripts/lib/deps.sh` installs it there).
pub const DEFAULT_NATS_SERVER: &str = "/opt/nats-server-2.15.1/bin/nats-server";
/// How long a (re)start may take before the test fails.
const START_PATIENCE: Duration = Duration::from_secs(20);
/// How long a graceful stop may take before the process is killed.
const STOP_PATIENCE: Duration = Duration::from_secs(10);

/// Which server a [`PrivateServer`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// `redis-server`.
    Redis,
    /// `nats-server` with JetStream.
    Nats,
}

/// A Redis or NATS server owned by one test.
pub struct PrivateServer {
    kind: ServerKind,
    bin: PathBuf,
    port: u16,
    monitor_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateServer {
    /// Starts a private `redis-server` and waits until it answers `PING`.
    pub async fn redis() -> anyhow::Result<Self> {
        let bin = std::env::var_os("REDIS_SERVER_BIN")
            .map_or_else(|| PathBuf::from("redis-server"), PathBuf::from);
        Self::launch(ServerKind::Redis, bin).await
    }

    /// Starts a private `nats-server` with JetStream and waits until JetStream is ready.
    pub async fn nats() -> anyhow::Result<Self> {
        let bin = std::env::var_os("NATS_SERVER_BIN")
            .map_or_else(|| PathBuf::from(DEFAULT_NATS_SERVER), PathBuf::from);
        if !bin.exists() {
            bail!(
                "nats-server not found at {} (set NATS_SERVER_BIN; scripts/lib/deps.sh installs it)",
                bin.display()
            );
        }
        Self::launch(ServerKind::Nats, bin).await
    }

    async fn launch(kind: ServerKind, bin: PathBuf) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "testkit-{}-{}",
            match kind {
                ServerKind::Redis => "redis",
                ServerKind::Nats => "nats",
            },
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut server = Self {
            kind,
            bin,
            port: free_port()?,
            monitor_port: free_port()?,
            dir,
            child: None,
        };
        server.start().await?;
        Ok(server)
    }

    /// The URL clients connect to (`redis://127.0.0.1:<port>/` or `nats://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        match self.kind {
            ServerKind::Redis => format!("redis://127.0.0.1:{}/", self.port),
            ServerKind::Nats => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    /// The port the server listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the process is running (started and not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the server again on the same port (no-op while it runs) and waits until it
    /// serves: Redis answers `PING`, NATS reports JetStream healthy.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let mut cmd = Command::new(&self.bin);
        match self.kind {
            ServerKind::Redis => {
                cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
                    .args(["--save", "", "--appendonly", "no", "--dir"])
                    .arg(&self.dir);
            }
            ServerKind::Nats => {
                let conf = self.dir.join("nats.conf");
                let store = self.dir.join("store");
                std::fs::write(
                    &conf,
                    format!(
                        "jetstream {{\n  store_dir: \"{}\"\n  max_file_store: 1T\n}}\n",
                        store.display()
                    ),
                )
                .context("writing nats.conf")?;
                cmd.args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
                    .args(["-m", &self.monitor_port.to_string(), "-c"])
                    .arg(&conf);
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + START_PATIENCE;
        while !self.serves().await {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                bail!("{} exited at start: {status}", self.bin.display());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{} did not become ready on port {}",
                    self.bin.display(),
                    self.port
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Stops the server (SIGTERM, as an operator would; SIGKILL after 10 s) and waits until
    /// the process has exited and the port refuses connections.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(STOP_PATIENCE, child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
        let deadline = tokio::time::Instant::now() + STOP_PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_ok()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Freezes the process (SIGSTOP): connections stay open but nothing answers, the way a
    /// hung server looks to clients (FLT-01 "kill -STOP"). [`PrivateServer::resume`] undoes it.
    pub async fn pause(&self) {
        self.signal("-STOP").await;
    }

    /// Lets a paused process run again (SIGCONT).
    pub async fn resume(&self) {
        self.signal("-CONT").await;
    }

    async fn signal(&self, sig: &str) {
        if let Some(pid) = self.child.as_ref().and_then(Child::id) {
            let _ = Command::new("kill")
                .args([sig, &pid.to_string()])
                .status()
                .await;
        }
    }

    /// Sends SIGKILL (a crash rather than a stop) and waits for the process to end.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    async fn serves(&self) -> bool {
        match self.kind {
            ServerKind::Redis => redis_pong(self.port).await,
            ServerKind::Nats => {
                let url = format!(
                    "http://127.0.0.1:{}/healthz?js-enabled-only=true",
                    self.monitor_port
                );
                matches!(reqwest::get(url).await, Ok(r) if r.status().is_success())
            }
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // a paused process still dies of SIGKILL
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether a Redis server on `port` answers `PING` with `+PONG`.
async fn redis_pong(port: u16) -> bool {
    let Ok(mut conn) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if conn.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0_u8; 7];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), conn.read_exact(&mut reply)).await,
        Ok(Ok(_)) if &reply == b"+PONG\r\n"
    )
}
