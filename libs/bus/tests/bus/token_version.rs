//! Token-version bump (SES-03/SES-04 plumbing, FLT-01..03 source of truth) and jti revocation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_bus::token_version::MirrorError;
use auth_bus::{
    Bus, BusError, KvOutcome, OutboxRelay, TokenVersionMirror, bump_token_version,
    bump_token_version_in_tx, enqueue_revoke_jti, put_token_version, revoke_jti,
};
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::helpers::{Ctx, closed_nats_url};

/// Records what it is told, like a Redis SET would.
#[derive(Default)]
struct Recorded(Mutex<Vec<(Uuid, i64)>>);

impl TokenVersionMirror for Recorded {
    fn set_version(&self, user_id: Uuid, version: i64) -> BoxFuture<'_, Result<(), MirrorError>> {
        Box::pin(async move {
            self.0.lock().expect("lock").push((user_id, version));
            Ok(())
        })
    }
}

async fn kv_version(bus: &Bus, user: Uuid) -> Option<i64> {
    let topo = bus.topology().await.expect("topology");
    let v = topo
        .token_versions
        .get(user.to_string())
        .await
        .expect("kv get")?;
    std::str::from_utf8(&v).ok()?.parse().ok()
}

async fn db_version(ctx: &Ctx, user: Uuid) -> i64 {
    sqlx::query_scalar("select token_version from users where id = $1")
        .bind(user)
        .fetch_one(&ctx.pool)
        .await
        .expect("user")
}

#[tokio::test]
async fn bump_updates_postgres_kv_and_mirror_and_queues_an_outbox_row() {
    let ctx = Ctx::new().await;
    let user = ctx.insert_user().await;
    let mirror = Recorded::default();
    let v1 = bump_token_version(&ctx.pool, user, Some(&ctx.bus), Some(&mirror))
        .await
        .expect("bump");
    assert_eq!(v1, 1);
    assert_eq!(db_version(&ctx, user).await, 1);
    assert_eq!(kv_version(&ctx.bus, user).await, Some(1));
    assert_eq!(*mirror.0.lock().expect("lock"), vec![(user, 1)]);
    let rows: i64 = sqlx::query_scalar("select count(*) from outbox where topic = 'token_version'")
        .fetch_one(&ctx.pool)
        .await
        .expect("count");
    assert_eq!(rows, 1, "the outbox row guarantees delivery");

    assert!(matches!(
        bump_token_version(&ctx.pool, Uuid::new_v4(), Some(&ctx.bus), None).await,
        Err(BusError::UserNotFound(_))
    ));
    ctx.cleanup().await;
}

#[tokio::test]
async fn an_older_version_never_overwrites_a_newer_one() {
    let ctx = Ctx::new().await;
    let user = ctx.insert_user().await;
    // Two bumps committed while NATS looked down: only outbox rows (v1, v2).
    for _ in 0..2 {
        let mut tx = ctx.pool.begin().await.expect("begin");
        let _ = bump_token_version_in_tx(&mut tx, user).await.expect("bump");
        tx.commit().await.expect("commit");
    }
    // Meanwhile a newer value reached the bucket directly.
    assert_eq!(
        put_token_version(&ctx.bus, user, 5).await.expect("put"),
        KvOutcome::Applied
    );
    assert_eq!(
        put_token_version(&ctx.bus, user, 3).await.expect("put"),
        KvOutcome::AlreadyCurrent
    );
    let relay = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone());
    let outcome = relay.relay_once().await.expect("relay");
    assert_eq!((outcome.delivered, outcome.failed), (2, 0));
    assert_eq!(
        kv_version(&ctx.bus, user).await,
        Some(5),
        "stale relayed bumps are ignored"
    );

    // Racing writers on one key: the highest always wins.
    let other = ctx.insert_user().await;
    let puts = (1..=20)
        .rev()
        .map(|v| put_token_version(&ctx.bus, other, v));
    for r in futures::future::join_all(puts).await {
        r.expect("forward-only put");
    }
    assert_eq!(kv_version(&ctx.bus, other).await, Some(20));
    ctx.cleanup().await;
}

#[tokio::test]
async fn bump_in_a_rolled_back_transaction_changes_nothing() {
    let ctx = Ctx::new().await;
    let user = ctx.insert_user().await;
    let mut tx = ctx.pool.begin().await.expect("begin");
    let bump = bump_token_version_in_tx(&mut tx, user).await.expect("bump");
    assert_eq!(bump.version, 1);
    tx.rollback().await.expect("rollback");
    assert_eq!(db_version(&ctx, user).await, 0);
    assert_eq!(ctx.unpublished().await, 0);

    let mut tx = ctx.pool.begin().await.expect("begin");
    let bump = bump_token_version_in_tx(&mut tx, user).await.expect("bump");
    tx.commit().await.expect("commit");
    let done = bump.publish_after_commit(Some(&ctx.bus), None).await;
    assert!(done.kv && !done.mirror);
    assert_eq!(kv_version(&ctx.bus, user).await, Some(1));
    ctx.cleanup().await;
}

#[tokio::test]
async fn flt_bump_while_nats_is_down_succeeds_and_the_relay_catches_up() {
    let ctx = Ctx::new().await;
    let user = ctx.insert_user().await;
    let mut cfg = ctx.cfg.clone();
    cfg.url = closed_nats_url();
    let down = Bus::connect(cfg).await.expect("starts without NATS");

    let started = tokio::time::Instant::now();
    let version = bump_token_version(&ctx.pool, user, Some(&down), None)
        .await
        .expect("Postgres is the source of truth: the bump commits");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "an outage must not stall the bump"
    );
    assert_eq!(version, 1);
    assert_eq!(kv_version(&ctx.bus, user).await, None);

    let relay = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone());
    let outcome = relay.relay_once().await.expect("relay");
    assert_eq!(outcome.delivered, 1);
    assert_eq!(relay.stats().kv_applied(), 1);
    assert_eq!(kv_version(&ctx.bus, user).await, Some(1));
    ctx.cleanup().await;
}

#[tokio::test]
async fn revoked_jti_goes_into_its_bucket_directly_or_through_the_outbox() {
    let ctx = Ctx::new().await;
    let store = ctx
        .bus
        .topology()
        .await
        .expect("topology")
        .revoked_jti
        .clone();
    let jti = Uuid::new_v4().to_string();
    revoke_jti(&ctx.bus, &jti, Duration::from_secs(60))
        .await
        .expect("revoke");
    assert!(store.get(jti.as_str()).await.expect("get").is_some());
    assert!(matches!(
        revoke_jti(&ctx.bus, "no spaces", Duration::from_secs(60)).await,
        Err(BusError::InvalidKey)
    ));

    let (live, expired) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let now = chrono::Utc::now();
    let mut tx = ctx.pool.begin().await.expect("begin");
    enqueue_revoke_jti(&mut tx, &live, None, now + chrono::Duration::minutes(10))
        .await
        .expect("enqueue");
    enqueue_revoke_jti(&mut tx, &expired, None, now - chrono::Duration::minutes(1))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let outcome = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone())
        .relay_once()
        .await
        .expect("relay");
    assert_eq!((outcome.delivered, outcome.failed), (2, 0));
    assert!(store.get(live.as_str()).await.expect("get").is_some());
    assert!(
        store.get(expired.as_str()).await.expect("get").is_none(),
        "expired tokens need no entry"
    );
    ctx.cleanup().await;
}

#[tokio::test]
async fn relay_with_a_mirror_keeps_rows_until_the_mirror_accepts() {
    struct Failing;
    impl TokenVersionMirror for Failing {
        fn set_version(&self, _: Uuid, _: i64) -> BoxFuture<'_, Result<(), MirrorError>> {
            Box::pin(async { Err("redis down".into()) })
        }
    }
    let ctx = Ctx::new().await;
    let user = ctx.insert_user().await;
    let mut tx = ctx.pool.begin().await.expect("begin");
    let _ = bump_token_version_in_tx(&mut tx, user).await.expect("bump");
    tx.commit().await.expect("commit");

    let failing =
        OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone()).with_mirror(Arc::new(Failing));
    let outcome = failing.relay_once().await.expect("relay");
    assert_eq!(outcome.failed, 1);
    assert_eq!(
        ctx.unpublished().await,
        1,
        "a stale mirror gets corrected later"
    );

    let mirror = Arc::new(Recorded::default());
    let ok = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone()).with_mirror(mirror.clone());
    assert_eq!(ok.relay_once().await.expect("relay").delivered, 1);
    assert_eq!(*mirror.0.lock().expect("lock"), vec![(user, 1)]);
    ctx.cleanup().await;
}
