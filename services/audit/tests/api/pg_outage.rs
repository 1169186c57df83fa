//! AUD-05: Postgres unreachable while events flow. The consumer keeps the messages (no ack, no
//! loss), and stores every event once Postgres is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use audit::{AuditConsumer, ConsumerConfig};
use sqlx::postgres::PgPoolOptions;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::helpers::{app, count, enqueue, wait_for_rows};

/// A TCP relay to Postgres that can be cut: while down it drops every open connection and
/// closes new ones at once, as a Postgres that went away would.
struct PgGate {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl PgGate {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up2, cut2) = (Arc::clone(&up), Arc::clone(&cut));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let target = target.clone();
                let cut = Arc::clone(&cut2);
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://...@host:port/db` with host and port replaced by the gate's.
fn through_gate(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (auth, rest) = rest.rsplit_once('@').map_or(("", rest), |(a, r)| (a, r));
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let at = if auth.is_empty() { "" } else { "@" };
    format!("{scheme}://{auth}{at}127.0.0.1:{port}{path}")
}

#[tokio::test]
async fn aud05_postgres_down_while_events_flow_loses_nothing() {
    let app = app().await;
    let db = &app.platform.db;
    let real = app.env.db.url().to_owned();
    let target = real
        .split_once("://")
        .and_then(|(_, r)| r.rsplit_once('@').map_or(Some(r), |(_, r)| Some(r)))
        .and_then(|r| r.split('/').next())
        .expect("host:port")
        .to_owned();
    let gate = PgGate::start(target).await;
    let consumer_db = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(&through_gate(&real, gate.port))
        .expect("lazy pool");

    gate.down();
    let mut cfg = ConsumerConfig::new(&app.platform.bus.config().prefix);
    cfg.ack_wait = Duration::from_secs(2);
    let consumer = AuditConsumer::new(consumer_db, app.platform.bus.clone()).with_config(cfg);
    let stats = consumer.stats();
    let stop = CancellationToken::new();
    let task = consumer.start(stop.clone());
    enqueue(db, 300, 10).await;

    // the events reached the consumer, which cannot store them: nothing stored, nothing acked
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while stats.failed_inserts() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumer never tried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(db).await, 0);
    // longer than ack_wait: the in-progress acks keep the messages with this consumer
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count(db).await, 0);

    gate.restore();
    wait_for_rows(db, 300, Duration::from_secs(30)).await;
    assert_eq!(count(db).await, 300, "every event once");
    assert_eq!(stats.poison(), 0);
    stop.cancel();
    task.await.expect("stops");
}
