//! Outbox -> relay -> NATS -> consumer -> `audit_log`: what reaches the log, once.

use std::collections::HashSet;
use std::time::Duration;

use auth_bus::{AuditAction, AuditEvent, enqueue_audit};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{admin, app, consumer, count, enqueue, get_json, wait_for_rows};

/// AUD-01: events committed with the change reach `GET /admin/audit-log` with actor, subject,
/// resource, IP, user agent and details.
#[tokio::test]
async fn aud01_events_reach_the_log_with_actor_ip_and_details() {
    let app = app().await;
    let stop = CancellationToken::new();
    let task = consumer(&app, &stop);
    let actor = Uuid::new_v4();
    let subject = Uuid::new_v4();
    let family = Uuid::new_v4();
    let org = Uuid::new_v4();
    let events = [
        AuditEvent::new(AuditAction::LOGIN_FAILED)
            .actor(actor)
            .client(Some("203.0.113.7".into()), Some("Mozilla/5.0 test".into()))
            .details(serde_json::json!({"reason": "invalid_password", "line": "a\r\nb"})),
        AuditEvent::new(AuditAction::LOGOUT_ALL)
            .actor(actor)
            .subject_user(subject)
            .organization(org)
            .client(Some("2001:db8::1".into()), None),
        AuditEvent::new(AuditAction::REFRESH_REUSE_DETECTED)
            .actor(actor)
            .resource("refresh_token_family", Some(family)),
    ];
    let mut tx = app.platform.db.begin().await.expect("begin");
    for e in &events {
        enqueue_audit(&mut tx, e).await.expect("enqueue");
    }
    tx.commit().await.expect("commit");
    wait_for_rows(&app.platform.db, 3, Duration::from_secs(20)).await;

    let (status, page) = get_json(
        &app,
        &format!("/admin/audit-log?user_id={actor}"),
        Some(&admin()),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 3);
    let entries = page["entries"].as_array().expect("entries");
    let by_action = |a: &str| {
        entries
            .iter()
            .find(|e| e["action"] == a)
            .unwrap_or_else(|| panic!("{a} missing from {page}"))
    };
    let failed = by_action("login.failed");
    assert_eq!(failed["id"], events[0].id.to_string());
    assert_eq!(failed["user_id"], actor.to_string());
    assert_eq!(failed["ip_address"], "203.0.113.7");
    assert_eq!(failed["user_agent"], "Mozilla/5.0 test");
    assert_eq!(failed["details"]["reason"], "invalid_password");
    assert_eq!(
        failed["details"]["line"], "a\r\nb",
        "stored as data (AUD-07)"
    );
    let all = by_action("logout.all");
    assert_eq!(all["details"]["subject_user_id"], subject.to_string());
    assert_eq!(all["organization_id"], org.to_string());
    assert_eq!(all["ip_address"], "2001:db8::1");
    let reuse = by_action("refresh.reuse_detected");
    assert_eq!(reuse["resource_type"], "refresh_token_family");
    assert_eq!(reuse["resource_id"], family.to_string());

    stop.cancel();
    task.await.expect("consumer stops on shutdown");
}

/// AUD-03/AUD-04: the same event published twice (two message ids, so the stream's own
/// de-duplication does not catch it) and redelivered is stored once.
#[tokio::test]
async fn aud04_a_duplicated_event_yields_one_row() {
    let app = app().await;
    let bus = &app.platform.bus;
    assert!(bus.wait_connected(Duration::from_secs(10)).await, "NATS");
    bus.topology().await.expect("topology");
    let e = crate::helpers::event(1);
    let payload = serde_json::to_vec(&e).expect("json");
    let subject = bus.config().subject(&e.action.topic());
    for msg_id in ["first", "second"] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id);
        bus.jetstream()
            .publish_with_headers(subject.clone(), headers, payload.clone().into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    // and once more through the outbox (the relay publishes with the event id as message id)
    let mut tx = app.platform.db.begin().await.expect("begin");
    enqueue_audit(&mut tx, &e).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let later = crate::helpers::event(2);
    let mut tx = app.platform.db.begin().await.expect("begin");
    enqueue_audit(&mut tx, &later).await.expect("enqueue");
    tx.commit().await.expect("commit");

    let stop = CancellationToken::new();
    let task = consumer(&app, &stop);
    wait_for_rows(&app.platform.db, 2, Duration::from_secs(20)).await;
    // the later event arrived after every copy of the first one, so all copies were handled
    let stored: Vec<Uuid> = sqlx::query_scalar("select event_id from audit_log order by seq")
        .fetch_all(&app.platform.db)
        .await
        .expect("rows");
    assert_eq!(stored.iter().filter(|id| **id == e.id).count(), 1);
    assert_eq!(count(&app.platform.db).await, 2);

    // a copy arriving long after the row was stored meets the unique event id in Postgres
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "third");
    bus.jetstream()
        .publish_with_headers(subject, headers, payload.into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    let last = crate::helpers::event(3);
    let mut tx = app.platform.db.begin().await.expect("begin");
    enqueue_audit(&mut tx, &last).await.expect("enqueue");
    tx.commit().await.expect("commit");
    wait_for_rows(&app.platform.db, 3, Duration::from_secs(20)).await;
    assert_eq!(count(&app.platform.db).await, 3);
    stop.cancel();
    task.await.expect("stops");
}

/// A consumer stopped mid-stream (its task aborted, as a crash would) and a fresh one started
/// afterwards lose nothing and double nothing.
#[tokio::test]
async fn consumer_killed_mid_stream_and_restarted_loses_nothing() {
    let app = app().await;
    let db = &app.platform.db;
    let ids = enqueue(db, 5000, 50).await;
    let first_stop = CancellationToken::new();
    let first = consumer(&app, &first_stop);
    let seen = wait_for_rows(db, 1, Duration::from_secs(20)).await;
    first.abort();
    first_stop.cancel();
    let _ = first.await;
    assert!(seen < 5000, "stopped after the whole backlog: {seen}");

    let stop = CancellationToken::new();
    let second = consumer(&app, &stop);
    wait_for_rows(db, 5000, Duration::from_secs(40)).await;
    let stored: Vec<Uuid> = sqlx::query_scalar("select event_id from audit_log")
        .fetch_all(db)
        .await
        .expect("rows");
    assert_eq!(stored.len(), 5000);
    assert_eq!(
        stored.into_iter().collect::<HashSet<_>>(),
        ids.into_iter().collect::<HashSet<_>>()
    );
    stop.cancel();
    second.await.expect("stops");
}

/// Two consumers on the one durable, each in its own process in real life, append to one chain:
/// `seq` runs 1..=n without a gap or a fork and the chain verifies.
#[tokio::test]
async fn concurrent_consumers_never_fork_the_chain() {
    let app = app().await;
    let db = &app.platform.db;
    let stop = CancellationToken::new();
    let a = consumer(&app, &stop);
    let b = consumer(&app, &stop);
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { enqueue(&db, 1000, 5).await })
        })
        .collect();
    for p in producers {
        p.await.expect("producer");
    }
    wait_for_rows(db, 4000, Duration::from_secs(40)).await;
    let (min, max, n): (i64, i64, i64) =
        sqlx::query_as("select min(seq), max(seq), count(distinct seq) from audit_log")
            .fetch_one(db)
            .await
            .expect("seqs");
    assert_eq!((min, max, n), (1, 4000, 4000));
    let check = audit::repo::chain::verify(db).await.expect("verify");
    assert_eq!(check.verdict.problem, None);
    assert_eq!(check.verdict.checked, 4000);
    stop.cancel();
    a.await.expect("stops");
    b.await.expect("stops");
}
