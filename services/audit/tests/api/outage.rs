//! The figure: 10,000 audited actions while NATS is stopped for part of the run and the
//! audit service is killed (SIGKILL) mid-stream and restarted; afterwards exactly 10,000 rows.
//! Runs its own nats-server (never the shared one), stopped and started inside the test.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_bus::{Bus, BusConfig, OutboxRelay, enqueue_audit};
use testkit::{ServiceProcess, TestEnv};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{count, event};

const ACTIONS: usize = 10_000;
const PRODUCERS: usize = 10;
/// Each producer commits one audited action every this often (10 x 100/s = 1,000/s).
const PACE: Duration = Duration::from_millis(10);

/// A private nats-server with JetStream on a free port, its store in a temporary directory.
struct PrivateNats {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateNats {
    async fn start() -> Self {
        let bin = std::env::var_os("NATS_BIN").map_or_else(
            || PathBuf::from("/opt/nats-server-2.15.1/bin/nats-server"),
            PathBuf::from,
        );
        assert!(
            bin.exists(),
            "nats-server not found at {} (set NATS_BIN; scripts/test exports it)",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = std::env::temp_dir().join(format!("audit-outage-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("nats store dir");
        let mut nats = Self {
            bin,
            port,
            dir,
            child: None,
        };
        nats.up().await;
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn up(&mut self) {
        let child = Command::new(&self.bin)
            .args(["-js", "-sd"])
            .arg(&self.dir)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "private nats-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Graceful stop (SIGTERM), as an operator would stop the server.
    async fn down(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        let _ = child.kill().await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `produced` reaches `n`.
async fn when_produced(produced: &AtomicUsize, n: usize) {
    while produced.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// AUD-02/AUD-04/AUD-05 together: nothing lost, nothing doubled.
#[tokio::test]
async fn ten_thousand_actions_survive_a_nats_outage_and_a_sigkilled_consumer() {
    let started = Instant::now();
    let mut nats = PrivateNats::start().await;
    let env = TestEnv::new().await;
    let vars: Vec<(String, String)> = env
        .vars()
        .into_iter()
        .map(|(k, v)| {
            if k == "NATS_URL" {
                (k, nats.url())
            } else {
                (k, v)
            }
        })
        .collect();
    let db = env.db.pool().clone();
    let mut audit = ServiceProcess::spawn("audit", &vars, "AUDIT_PORT")
        .await
        .expect("spawn the audit binary");

    // the other services: their transactions write the outbox, their relay publishes
    let bus = Bus::connect(BusConfig::new(nats.url(), env.nats_prefix.clone()))
        .await
        .expect("bus");
    let stop_relay = CancellationToken::new();
    let relay = OutboxRelay::spawn(db.clone(), bus, stop_relay.clone());

    let produced = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let db = db.clone();
            let produced = Arc::clone(&produced);
            tokio::spawn(async move {
                let mut ids = Vec::with_capacity(ACTIONS / PRODUCERS);
                let mut tick = tokio::time::interval(PACE);
                for i in 0..ACTIONS / PRODUCERS {
                    tick.tick().await;
                    let e = event(p * ACTIONS + i);
                    let mut tx = db.begin().await.expect("begin");
                    enqueue_audit(&mut tx, &e).await.expect("enqueue");
                    tx.commit().await.expect("commit");
                    ids.push(e.id);
                    produced.fetch_add(1, Ordering::Relaxed);
                }
                ids
            })
        })
        .collect();

    when_produced(&produced, 1_500).await;
    nats.down().await;
    let stopped_at = produced.load(Ordering::Relaxed);
    when_produced(&produced, 4_000).await;
    nats.up().await;
    let restarted_at = produced.load(Ordering::Relaxed);
    // kill the consumer while it is busy with the backlog the outage left
    let rows_at_restart = count(&db).await;
    let busy_by = Instant::now() + Duration::from_secs(30);
    while count(&db).await < rows_at_restart + 1_000 {
        assert!(
            Instant::now() < busy_by,
            "the consumer did not resume after the outage"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = produced.load(Ordering::Relaxed);
    let rows_at_kill = count(&db).await;
    audit.kill().await;
    when_produced(&produced, killed_at + 1_000).await;
    let rows_while_down = count(&db).await;
    let mut audit = ServiceProcess::spawn("audit", &vars, "AUDIT_PORT")
        .await
        .expect("restart the audit binary");

    let mut ids = HashSet::with_capacity(ACTIONS);
    for p in producers {
        ids.extend(p.await.expect("producer"));
    }
    assert_eq!(ids.len(), ACTIONS);
    let produced_in = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(45);
    let mut rows = count(&db).await;
    while rows < ACTIONS as i64 {
        assert!(
            Instant::now() < deadline,
            "{rows} of {ACTIONS} rows; audit output:\n{}",
            audit.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        rows = count(&db).await;
    }
    let stored: Vec<Uuid> = sqlx::query_scalar("select event_id from audit_log")
        .fetch_all(&db)
        .await
        .expect("rows");
    let stored_set: HashSet<Uuid> = stored.iter().copied().collect();
    eprintln!(
        "outage run: {ACTIONS} actions committed in {:.1} s; NATS stopped at {stopped_at} and \
         restarted at {restarted_at} ({rows_at_restart} rows); audit SIGKILLed at {killed_at} with \
         {rows_at_kill} rows stored ({rows_while_down} while it was down); {} rows after {:.1} s, {} distinct",
        produced_in.as_secs_f64(),
        stored.len(),
        started.elapsed().as_secs_f64(),
        stored_set.len()
    );
    assert!(
        (rows_at_kill as usize) < killed_at,
        "killed mid-stream: {rows_at_kill} rows of {killed_at} actions"
    );
    assert_eq!(stored.len(), ACTIONS, "exactly one row per action");
    assert_eq!(stored_set, ids, "the rows are the actions");
    let check = audit::repo::chain::verify(&db).await.expect("verify");
    assert_eq!(check.verdict.problem, None);
    assert_eq!(check.verdict.checked, ACTIONS as u64);

    stop_relay.cancel();
    let _ = relay.await;
    audit.kill().await;
    nats.down().await;
}
