//! The NATS key-value watcher against the real NATS (`NATS_URL`): initial load, live updates,
//! fail-closed after `max_staleness` without a feed, and recovery. The connection is cut by
//! a small TCP proxy owned by the test; the shared NATS server is never touched.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use jwt_verify::revocation::nats::{
    NatsRevocation, NatsRevocationConfig, NatsRevocationError, ensure_buckets,
};
use jwt_verify::{ManualClock, RevocationSource, TokenRef, Verifier, VerifyError};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

fn nats_addr() -> String {
    let url = env_url("NATS_URL");
    url.trim_start_matches("nats://")
        .trim_end_matches('/')
        .to_owned()
}

/// A TCP forwarder that can be killed (every connection dropped) and restarted.
struct Proxy {
    addr: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(bind: &str, upstream: String) -> Self {
        let listener = TcpListener::bind(bind).await.expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { addr, tasks }
    }

    fn kill(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn client_via(addr: SocketAddr) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .reconnect_delay_callback(|_| Duration::from_millis(100))
        .connect(addr.to_string())
        .await
        .expect("connect through proxy")
}

async fn direct() -> jetstream::Context {
    let client = async_nats::connect(nats_addr())
        .await
        .expect("NATS at NATS_URL must be reachable");
    jetstream::new(client)
}

fn token_with(tv: u64, jti: &str) -> String {
    let mut c = access_claims();
    c.tv = tv;
    c.jti = jti.into();
    sign(&c, ACCESS)
}

#[tokio::test]
async fn watcher_loads_follows_fails_closed_and_recovers() {
    let prefix = format!("{}_", unique_prefix("nats"));
    let js = direct().await;
    let (tv_store, jti_store) = ensure_buckets(&js, &prefix, Duration::from_secs(3600))
        .await
        .unwrap();
    ensure_buckets(&js, &prefix, Duration::from_secs(3600))
        .await
        .expect("idempotent");
    tv_store.put(USER, "5".into()).await.unwrap();
    jti_store.put("preexisting-jti", "1".into()).await.unwrap();

    let proxy = Proxy::start("127.0.0.1:0", nats_addr()).await;
    let watch_clock = Arc::new(ManualClock::starting_now());
    let config = NatsRevocationConfig {
        prefix: prefix.clone(),
        max_staleness: Duration::from_secs(5),
        health_interval: Duration::from_millis(20),
        clock: watch_clock.clone(),
        ..NatsRevocationConfig::default()
    };
    let watcher = NatsRevocation::start(client_via(proxy.addr).await, config)
        .await
        .unwrap();
    let v = Verifier::new(crate::support::config(&clock()), Arc::new(watcher.clone())).unwrap();

    // Initial state was loaded before `start` returned.
    assert_eq!(
        v.verify_access(&token_with(3, "a")).await,
        Err(VerifyError::Revoked)
    );
    assert!(v.verify_access(&token_with(5, "a")).await.is_ok());
    assert_eq!(
        v.verify_access(&token_with(5, "preexisting-jti")).await,
        Err(VerifyError::Revoked)
    );

    // Live updates.
    let rev = tv_store.put(USER, "6".into()).await.unwrap();
    assert!(watcher.wait_token_versions(rev, WAIT).await);
    assert_eq!(
        v.verify_access(&token_with(5, "a")).await,
        Err(VerifyError::Revoked)
    );
    assert!(v.verify_access(&token_with(6, "a")).await.is_ok());
    let rev = jti_store.put("logged-out", "1".into()).await.unwrap();
    assert!(watcher.wait_revoked_jti(rev, WAIT).await);
    assert_eq!(
        v.verify_access(&token_with(6, "logged-out")).await,
        Err(VerifyError::Revoked)
    );
    // SES-02: an ended session's id in the same bucket revokes every token of that session
    let rev = jti_store.put("ended-session", "1".into()).await.unwrap();
    assert!(watcher.wait_revoked_jti(rev, WAIT).await);
    let in_session = TokenRef {
        user_id: USER,
        jti: "fresh",
        token_version: 6,
        session_id: "ended-session",
    };
    assert_eq!(watcher.is_revoked(in_session).await, Ok(true));
    let elsewhere = TokenRef {
        session_id: "another-session",
        ..in_session
    };
    assert_eq!(watcher.is_revoked(elsewhere).await, Ok(false));
    // A smaller version or a delete never lowers what was seen; garbage fails closed.
    let rev = tv_store.put(USER, "2".into()).await.unwrap();
    assert!(watcher.wait_token_versions(rev, WAIT).await);
    assert_eq!(watcher.token_version(USER).await, Ok(6));
    let rev = tv_store
        .put("user-with-garbage", "x1".into())
        .await
        .unwrap();
    assert!(watcher.wait_token_versions(rev, WAIT).await);
    assert_eq!(
        watcher.token_version("user-with-garbage").await,
        Ok(u64::MAX)
    );

    // Lose the feed: answers continue within the bound, then fail closed.
    assert!(watcher.is_healthy());
    let healthy_at = watcher.last_healthy_ms();
    proxy.kill();
    eventually("the watcher notices the lost connection", || {
        !watcher.is_healthy()
    })
    .await;
    assert!(
        v.verify_access(&token_with(6, "a")).await.is_ok(),
        "within max_staleness"
    );
    watch_clock.advance_ms(5_001);
    let err = v.verify_access(&token_with(6, "a")).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::RevocationUnavailable(_)),
        "{err:?}"
    );
    let t = TokenRef {
        user_id: USER,
        jti: "a",
        token_version: 6,
        session_id: "",
    };
    assert!(watcher.is_revoked(t).await.is_err());
    assert_eq!(
        watcher.last_healthy_ms(),
        healthy_at.max(watcher.last_healthy_ms())
    );
    assert!(watcher.last_healthy_ms() < jwt_verify::Clock::now_ms(watch_clock.as_ref()) - 5_000);

    // A bump while the feed is down is seen after the reconnect.
    let rev = tv_store.put(USER, "7".into()).await.unwrap();
    let _restarted = Proxy::start(&proxy.addr.to_string(), nats_addr()).await;
    eventually("the watcher reconnects", || watcher.is_healthy()).await;
    assert!(watcher.wait_token_versions(rev, WAIT).await);
    assert_eq!(
        v.verify_access(&token_with(6, "a")).await,
        Err(VerifyError::Revoked)
    );
    assert!(v.verify_access(&token_with(7, "a")).await.is_ok());

    drop(v);
    drop(watcher);
    let _ = js.delete_key_value(format!("{prefix}token_versions")).await;
    let _ = js.delete_key_value(format!("{prefix}revoked_jti")).await;
}

#[tokio::test]
async fn start_fails_when_the_buckets_do_not_exist() {
    let prefix = format!("{}_", unique_prefix("nobucket"));
    let client = async_nats::connect(nats_addr())
        .await
        .expect("NATS at NATS_URL must be reachable");
    let config = NatsRevocationConfig {
        prefix,
        ..NatsRevocationConfig::default()
    };
    let err = NatsRevocation::start(client, config).await.unwrap_err();
    assert!(matches!(err, NatsRevocationError::Bucket { .. }), "{err:?}");
}
