//! The real nginx ingress (`deploy/nginx`), rendered into a temporary directory and pointed
//! at the test's service processes.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

/// A running nginx on 127.0.0.1. Stopped and its directory removed on drop.
pub struct Ingress {
    /// The port it listens on.
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Ingress {
    /// Starts nginx (`NGINX_BIN`, else `nginx` on the PATH or `/usr/sbin/nginx`) with the
    /// committed template and routing table; `upstreams` maps identity, session, authz and
    /// audit to their ports.
    pub async fn start(upstreams: &[(&str, u16)]) -> anyhow::Result<Self> {
        let mut last_error = None;
        for _ in 0..3 {
            match Self::try_start(upstreams).await {
                Ok(ingress) => return Ok(ingress),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("nginx did not start")))
    }

    async fn try_start(upstreams: &[(&str, u16)]) -> anyhow::Result<Self> {
        let deploy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx");
        let dir =
            std::env::temp_dir().join(format!("testkit-ingress-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        set_mode_755(&dir)?;
        for file in ["routes.conf", "security-headers.conf"] {
            std::fs::copy(deploy.join(file), dir.join(file))
                .with_context(|| format!("copying {file}"))?;
        }
        let port = free_port()?;
        let mut conf = std::fs::read_to_string(deploy.join("nginx.conf.template"))?
            .replace("@@STATE@@", &dir.display().to_string())
            .replace("@@CONF_DIR@@", &dir.display().to_string())
            .replace("@@LISTEN@@", &format!("127.0.0.1:{port}"));
        for (name, upstream_port) in upstreams {
            let placeholder = format!("@@{}_ADDR@@", name.to_uppercase());
            conf = conf.replace(&placeholder, &format!("127.0.0.1:{upstream_port}"));
        }
        if conf.contains("@@") {
            bail!("nginx template has unfilled placeholders; give every upstream");
        }
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new(nginx_bin())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting nginx")?;
        let ingress = Self { port, child, dir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(ingress);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(ingress.dir.join("error.log")).unwrap_or_default();
        bail!("nginx did not listen on {port}: {log}")
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Ingress {
    /// Stops nginx gracefully (SIGQUIT to the master, which ends its workers; SIGKILL would
    /// orphan them), then removes its directory.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
            for _ in 0..100 {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nginx_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX_BIN") {
        return PathBuf::from(path);
    }
    let sbin = PathBuf::from("/usr/sbin/nginx");
    if sbin.exists() {
        sbin
    } else {
        PathBuf::from("nginx")
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn set_mode_755(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}
