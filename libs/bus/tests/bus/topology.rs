//! Connection and topology: idempotent creation, `DiscardNew` (AUD-06), no-NATS start.

use std::time::Duration;

use async_nats::jetstream::stream::{DiscardPolicy, StorageType};
use auth_bus::{Bus, BusConfig, BusError};

use crate::helpers::{Ctx, closed_nats_url, env};

#[tokio::test]
async fn aud06_topology_is_idempotent_and_discards_new() {
    let ctx = Ctx::new().await;
    // Again, and twice concurrently from another connection: all succeed.
    let other = ctx.second_bus().await;
    let (a, b, c) = tokio::join!(
        ctx.bus.ensure_topology(),
        other.ensure_topology(),
        ctx.bus.ensure_topology()
    );
    for r in [a, b, c] {
        r.expect("ensure_topology is idempotent");
    }

    let mut stream = ctx
        .bus
        .jetstream()
        .get_stream(ctx.cfg.audit_stream())
        .await
        .expect("stream exists");
    let info = stream.info().await.expect("info").config.clone();
    assert_eq!(info.discard, DiscardPolicy::New, "AUD-06: never DiscardOld");
    assert_eq!(info.storage, StorageType::File);
    assert_eq!(info.subjects, vec![format!("{}audit.>", ctx.cfg.prefix)]);
    assert_eq!(info.duplicate_window, Duration::from_secs(120));
    assert_eq!(info.max_age, ctx.cfg.audit_max_age);

    let topo = ctx.bus.topology().await.expect("topology");
    let tv = &topo.token_versions;
    let tv_status = tv.status().await.expect("token_versions status");
    assert_eq!(tv_status.history(), 1);
    assert_eq!(
        tv_status.bucket(),
        format!("{}token_versions", ctx.cfg.prefix)
    );
    let rj = &topo.revoked_jti;
    let rj_status = rj.status().await.expect("revoked_jti status");
    assert_eq!(
        rj_status.max_age(),
        ctx.cfg.access_token_ttl + auth_bus::config::REVOCATION_LEEWAY
    );
    ctx.cleanup().await;
}

#[tokio::test]
async fn connect_without_nats_does_not_fail_and_reports_not_ready() {
    let bus = Bus::connect(BusConfig::new(closed_nats_url(), "unused_"))
        .await
        .expect("a NATS outage must not stop the service from starting");
    assert!(!bus.is_connected());
    assert!(!bus.wait_connected(Duration::from_millis(200)).await);
    assert!(matches!(
        bus.ensure_topology().await,
        Err(BusError::NotConnected)
    ));
}

#[tokio::test]
async fn invalid_prefix_is_refused_at_connect() {
    let err = Bus::connect(BusConfig::new(env("NATS_URL"), "bad.prefix"))
        .await
        .expect_err("dots would change subject semantics");
    assert!(matches!(err, BusError::Config(_)));
}
