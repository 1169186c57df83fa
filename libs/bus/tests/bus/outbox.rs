//! Enqueueing: in the caller's transaction, validated, and woken relays.

use auth_bus::{AuditAction, AuditEvent, BusError, enqueue, enqueue_audit, enqueue_revoke_jti};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

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

/// (user_id, expires_at in microseconds) of the durable record, if any.
async fn revoked_row(ctx: &Ctx, jti: Uuid) -> Option<(Option<Uuid>, i64)> {
    sqlx::query_as::<_, (Option<Uuid>, DateTime<Utc>)>(
        "select user_id, expires_at from revoked_access_tokens where jti = $1",
    )
    .bind(jti)
    .fetch_optional(&ctx.pool)
    .await
    .expect("select revoked")
    .map(|(u, e)| (u, e.timestamp_micros()))
}

async fn revoked_outbox_rows(ctx: &Ctx, jti: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from outbox where topic = 'revoked_jti' and payload->>'jti' = $1",
    )
    .bind(jti)
    .fetch_one(&ctx.pool)
    .await
    .expect("count outbox")
}

// The durable record of a revoked access token (revoked_access_tokens, the Postgres fallback
// readers use when NATS/Redis lag) commits or rolls back with the outbox row.
#[tokio::test]
async fn revoking_a_jti_writes_the_durable_record_in_the_same_transaction() {
    let ctx = Ctx::new().await;
    let user = ctx.insert_user().await;
    let expires_at = Utc::now() + chrono::Duration::minutes(15);
    let jti = Uuid::new_v4();

    let mut tx = ctx.pool.begin().await.expect("begin");
    enqueue_revoke_jti(&mut tx, &jti.to_string(), Some(user), expires_at)
        .await
        .expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert_eq!(revoked_row(&ctx, jti).await, None);
    assert_eq!(revoked_outbox_rows(&ctx, &jti.to_string()).await, 0);

    let mut tx = ctx.pool.begin().await.expect("begin");
    enqueue_revoke_jti(&mut tx, &jti.to_string(), Some(user), expires_at)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(
        revoked_row(&ctx, jti).await,
        Some((Some(user), expires_at.timestamp_micros()))
    );
    assert_eq!(revoked_outbox_rows(&ctx, &jti.to_string()).await, 1);

    // Again (a retried logout): the first record stays, no error.
    let mut conn = ctx.pool.acquire().await.expect("conn");
    enqueue_revoke_jti(&mut conn, &jti.to_string(), None, expires_at)
        .await
        .expect("second revoke is not an error");
    assert_eq!(
        revoked_row(&ctx, jti).await,
        Some((Some(user), expires_at.timestamp_micros()))
    );

    // Outside a transaction, without a user.
    let other = Uuid::new_v4();
    enqueue_revoke_jti(&mut conn, &other.to_string(), None, expires_at)
        .await
        .expect("enqueue");
    assert_eq!(
        revoked_row(&ctx, other).await,
        Some((None, expires_at.timestamp_micros()))
    );
    drop(conn);
    ctx.cleanup().await;
}

// A jti that is not a UUID has no place in revoked_access_tokens: only the outbox (and so the
// bucket) carries it.
#[tokio::test]
async fn a_non_uuid_jti_is_queued_for_the_bucket_only() {
    let ctx = Ctx::new().await;
    let expires_at = Utc::now() + chrono::Duration::minutes(15);
    let mut tx = ctx.pool.begin().await.expect("begin");
    enqueue_revoke_jti(&mut tx, "legacy_jti-42", None, expires_at)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(revoked_outbox_rows(&ctx, "legacy_jti-42").await, 1);
    let n: i64 = sqlx::query_scalar("select count(*) from revoked_access_tokens")
        .fetch_one(&ctx.pool)
        .await
        .expect("count");
    assert_eq!(n, 0);

    let mut tx = ctx.pool.begin().await.expect("begin");
    assert!(matches!(
        enqueue_revoke_jti(&mut tx, "no spaces", None, expires_at).await,
        Err(BusError::InvalidKey)
    ));
    ctx.cleanup().await;
}
