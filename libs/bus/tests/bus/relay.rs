//! The relay: exactly once per row (AUD-03), concurrent relays, NATS outage (AUD-02),
//! full stream (AUD-06), prompt wake-up and shutdown (AUD-10).

use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use auth_bus::{AuditAction, AuditEvent, Bus, BusConfig, OutboxRelay, RelayConfig, enqueue_audit};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Ctx, closed_nats_url};

const DRAIN: Duration = Duration::from_secs(30);

#[tokio::test]
async fn relay_publishes_each_row_once_with_event_id_as_msg_id() {
    let ctx = Ctx::new().await;
    let ids = ctx.enqueue_events(50, 7).await;
    let stop = CancellationToken::new();
    let relay = OutboxRelay::spawn(ctx.pool.clone(), ctx.bus.clone(), stop.clone());
    ctx.wait_drained(DRAIN).await;
    ctx.assert_exactly_once(&ids).await;
    stop.cancel();
    relay.await.expect("relay task");
    ctx.cleanup().await;
}

#[tokio::test]
async fn aud03_row_published_before_a_crash_is_not_doubled() {
    let ctx = Ctx::new().await;
    let ids = ctx.enqueue_events(3, 3).await;
    // The crashed relay had published the first row but not marked it.
    let payload: String = sqlx::query_scalar("select payload::text from outbox where id = $1")
        .bind(ids[0])
        .fetch_one(&ctx.pool)
        .await
        .expect("row");
    let ack = ctx
        .bus
        .jetstream()
        .send_publish(
            ctx.cfg.subject("audit.login.success"),
            PublishMessage::build()
                .payload(payload.into())
                .message_id(ids[0].to_string()),
        )
        .await
        .expect("publish")
        .await
        .expect("ack");
    assert!(!ack.duplicate);

    let relay = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone());
    let outcome = relay.relay_once().await.expect("relay pass");
    assert_eq!(
        (outcome.claimed, outcome.delivered, outcome.failed),
        (3, 3, 0)
    );
    assert_eq!(ctx.unpublished().await, 0);
    ctx.assert_exactly_once(&ids).await;
    ctx.cleanup().await;
}

#[tokio::test]
async fn two_relays_on_1000_rows_publish_each_once() {
    let ctx = Ctx::new().await;
    let ids = ctx.enqueue_events(1000, 50).await;
    let cfg = RelayConfig {
        batch_size: 50,
        ..RelayConfig::default()
    };
    let stop = CancellationToken::new();
    let a = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone()).with_config(cfg.clone());
    let b = OutboxRelay::new(ctx.second_pool().await, ctx.second_bus().await).with_config(cfg);
    let (sa, sb) = (a.stats(), b.stats());
    let (ha, hb) = (a.start(stop.clone()), b.start(stop.clone()));
    ctx.wait_drained(DRAIN).await;
    stop.cancel();
    ha.await.expect("relay a");
    hb.await.expect("relay b");
    assert_eq!(
        sa.delivered() + sb.delivered(),
        1000,
        "skip locked: no row is claimed by both relays"
    );
    ctx.assert_exactly_once(&ids).await;
    ctx.cleanup().await;
}

#[tokio::test]
async fn aud02_relay_without_nats_keeps_rows_and_a_later_relay_delivers_them() {
    let ctx = Ctx::new().await;
    let ids = ctx.enqueue_events(20, 4).await;

    let mut down_cfg = ctx.cfg.clone();
    down_cfg.url = closed_nats_url();
    let down = Bus::connect(down_cfg).await.expect("starts without NATS");
    let stop = CancellationToken::new();
    let relay = OutboxRelay::new(ctx.pool.clone(), down);
    let stats = relay.stats();
    let handle = relay.start(stop.clone());
    let deadline = tokio::time::Instant::now() + DRAIN;
    while stats.disconnected_waits() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "relay never retried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ctx.unpublished().await, 20, "nothing lost, nothing marked");
    assert!(ctx.stream_messages().await.is_empty());
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(2), handle)
        .await
        .expect("a relay waiting for NATS stops promptly")
        .expect("relay task");

    // NATS is back (a relay with a good connection): every row arrives once.
    let stop = CancellationToken::new();
    let handle = OutboxRelay::spawn(ctx.pool.clone(), ctx.bus.clone(), stop.clone());
    ctx.wait_drained(DRAIN).await;
    ctx.assert_exactly_once(&ids).await;
    stop.cancel();
    handle.await.expect("relay task");
    ctx.cleanup().await;
}

#[tokio::test]
async fn aud06_full_stream_refuses_publishes_and_the_outbox_keeps_the_rows() {
    let ctx = Ctx::with(|c: &mut BusConfig| c.audit_max_bytes = 4096).await;
    let ids = ctx.enqueue_events(40, 40).await;
    let relay = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone());
    let outcome = relay.relay_once().await.expect("relay pass");
    assert_eq!(outcome.claimed, 40);
    assert!(
        outcome.failed > 0,
        "a full stream must refuse, not drop: {outcome:?}"
    );
    let stored = ctx.stream_messages().await;
    assert_eq!(
        stored.len(),
        outcome.delivered,
        "only acked rows are marked"
    );
    assert_eq!(ctx.unpublished().await as usize, outcome.failed);
    let first: std::collections::HashSet<_> = ids.iter().map(|i| i.to_string()).collect();
    assert!(stored.iter().all(|(id, _, _)| first.contains(id)));
    ctx.cleanup().await;
}

#[tokio::test]
async fn notify_wakes_an_idle_relay_and_shutdown_stops_it_promptly() {
    let ctx = Ctx::new().await;
    let cfg = RelayConfig {
        poll_interval: Duration::from_secs(3600),
        ..RelayConfig::default()
    };
    let stop = CancellationToken::new();
    let relay = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone()).with_config(cfg);
    let stats = relay.stats();
    let handle = relay.start(stop.clone());
    // Let it go idle (nothing to do), then commit one event: only NOTIFY can wake it.
    let mut ids = Vec::new();
    for round in 1..=3u64 {
        let e = AuditEvent::new(AuditAction::LOGOUT_ALL);
        let mut tx = ctx.pool.begin().await.expect("begin");
        enqueue_audit(&mut tx, &e).await.expect("enqueue");
        tx.commit().await.expect("commit");
        ids.push(e.id);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while stats.delivered() < round {
            assert!(
                tokio::time::Instant::now() < deadline,
                "NOTIFY did not wake the relay"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    ctx.assert_exactly_once(&ids).await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(2), handle)
        .await
        .expect("relay stops promptly on the shutdown token")
        .expect("relay task");
    ctx.cleanup().await;
}

#[tokio::test]
async fn published_rows_are_pruned_after_retention() {
    let ctx = Ctx::new().await;
    ctx.enqueue_events(5, 5).await;
    let relay = OutboxRelay::new(ctx.pool.clone(), ctx.bus.clone()).with_config(RelayConfig {
        retention: Some(Duration::from_secs(3600)),
        ..RelayConfig::default()
    });
    relay.relay_once().await.expect("relay pass");
    assert_eq!(relay.prune().await.expect("prune"), 0, "recent rows stay");
    sqlx::query("update outbox set published_at = now() - interval '2 hours'")
        .execute(&ctx.pool)
        .await
        .expect("age rows");
    ctx.enqueue_events(1, 1).await;
    assert_eq!(
        relay.prune().await.expect("prune"),
        5,
        "old published rows go"
    );
    assert_eq!(
        ctx.unpublished().await,
        1,
        "unpublished rows are never pruned"
    );
    ctx.cleanup().await;
}
