//! Enqueueing: in the caller's transaction, validated, and woken relays.

use auth_bus::{AuditAction, AuditEvent, BusError, enqueue, enqueue_audit};
use serde_json::json;

use crate::helpers::Ctx;

#[tokio::test]
async fn enqueue_is_part_of_the_callers_transaction() {
    let ctx = Ctx::new().await;
    let event = AuditEvent::new(AuditAction::PASSWORD_CHANGE);
    let mut tx = ctx.pool.begin().await.expect("begin");
    enqueue_audit(&mut tx, &event).await.expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert_eq!(
        ctx.unpublished().await,
        0,
        "a rolled back change leaves no event"
    );

    let mut tx = ctx.pool.begin().await.expect("begin");
    enqueue_audit(&mut tx, &event).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let (topic, payload): (String, serde_json::Value) =
        sqlx::query_as("select topic, payload from outbox where id = $1")
            .bind(event.id)
            .fetch_one(&ctx.pool)
            .await
            .expect("row with id = event id");
    assert_eq!(topic, "audit.password.change");
    assert_eq!(payload["id"], event.id.to_string());
    assert_eq!(payload["action"], "password.change");

    // The same event id twice is refused by the primary key.
    let mut tx = ctx.pool.begin().await.expect("begin");
    assert!(matches!(
        enqueue_audit(&mut tx, &event).await,
        Err(BusError::Database(_))
    ));
    ctx.cleanup().await;
}

#[tokio::test]
async fn unroutable_topics_and_huge_payloads_are_refused() {
    let ctx = Ctx::new().await;
    let mut tx = ctx.pool.begin().await.expect("begin");
    for topic in ["orders.created", "audit.>", "audit.a b", ""] {
        assert!(
            matches!(
                enqueue(&mut tx, topic, &json!({})).await,
                Err(BusError::InvalidTopic(_))
            ),
            "{topic:?}"
        );
    }
    let big = json!({ "blob": "x".repeat(70 * 1024) });
    assert!(matches!(
        enqueue(&mut tx, "audit.user.bulk_imported", &big).await,
        Err(BusError::PayloadTooLarge { .. })
    ));
    let id = enqueue(&mut tx, "audit.authz_denied", &json!({"k": 1}))
        .await
        .expect("generic enqueue on a routable topic");
    tx.commit().await.expect("commit");
    let n: i64 = sqlx::query_scalar("select count(*) from outbox where id = $1")
        .bind(id)
        .fetch_one(&ctx.pool)
        .await
        .expect("count");
    assert_eq!(n, 1);
    ctx.cleanup().await;
}
