//! One chunk: parse, insert idempotently (retrying while Postgres is away), then acknowledge.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use async_nats::jetstream::{AckKind, Message};
use auth_bus::AuditEvent;
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::AuditConsumer;
use crate::domain::record::AuditRecord;
use crate::repo::insert::insert_batch;

impl AuditConsumer {
    /// Stores the events of `msgs` and acknowledges them after the commit. Messages that are
    /// not audit events are terminated (logged at ERROR). On shutdown while Postgres is away,
    /// the messages are NAKed so another instance gets them at once.
    pub(super) async fn process(&self, msgs: Vec<Message>, shutdown: &CancellationToken) {
        if msgs.is_empty() {
            return;
        }
        let mut records = Vec::with_capacity(msgs.len());
        let mut keep = Vec::with_capacity(msgs.len());
        let mut seen = HashSet::with_capacity(msgs.len());
        for m in msgs {
            match serde_json::from_slice::<AuditEvent>(&m.payload) {
                Ok(event) => {
                    if seen.insert(event.id) {
                        records.push(AuditRecord::from_event(event));
                    }
                    keep.push(m);
                }
                Err(e) => {
                    self.stats.poison.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        subject = %m.subject,
                        error = %e,
                        "message on the audit stream is not an audit event; terminated"
                    );
                    ack_all(std::slice::from_ref(&m), AckKind::Term).await;
                }
            }
        }
        if self.store(&records, &keep, shutdown).await {
            ack_all(&keep, AckKind::Ack).await;
        } else {
            ack_all(&keep, AckKind::Nak(None)).await;
        }
    }

    /// Inserts until it succeeds (`true`) or shutdown interrupts the retries (`false`).
    async fn store(
        &self,
        records: &[AuditRecord],
        msgs: &[Message],
        shutdown: &CancellationToken,
    ) -> bool {
        let mut failures: u32 = 0;
        loop {
            match insert_batch(&self.db, records).await {
                Ok(inserted) => {
                    self.stats.inserted.fetch_add(inserted, Ordering::Relaxed);
                    let total = u64::try_from(msgs.len()).unwrap_or(u64::MAX);
                    self.stats
                        .duplicates
                        .fetch_add(total.saturating_sub(inserted), Ordering::Relaxed);
                    return true;
                }
                Err(e) if is_row_error(&e) && records.len() > 1 => {
                    // One bad row must not hold the others back: store them one by one.
                    tracing::warn!(error = %e, "audit batch refused; inserting one by one");
                    return self.store_one_by_one(records, msgs, shutdown).await;
                }
                Err(e) => {
                    self.stats.failed_inserts.fetch_add(1, Ordering::Relaxed);
                    failures = failures.saturating_add(1);
                    if failures == 1 || failures.is_multiple_of(20) {
                        tracing::warn!(
                            error = %e,
                            failures,
                            events = records.len(),
                            "audit insert failed; keeping the messages and retrying"
                        );
                    }
                    // Keep the messages from being redelivered elsewhere while we retry.
                    ack_all(msgs, AckKind::Progress).await;
                    tokio::select! {
                        () = shutdown.cancelled() => return false,
                        () = tokio::time::sleep(self.backoff(failures)) => {}
                    }
                }
            }
        }
    }

    async fn store_one_by_one(
        &self,
        records: &[AuditRecord],
        msgs: &[Message],
        shutdown: &CancellationToken,
    ) -> bool {
        for r in records {
            match insert_batch(&self.db, std::slice::from_ref(r)).await {
                Ok(n) => {
                    self.stats.inserted.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) if is_row_error(&e) => {
                    self.stats.poison.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(event_id = %r.id, error = %e, "audit event cannot be stored; dropped");
                }
                Err(_) => {
                    return Box::pin(self.store(records, msgs, shutdown)).await;
                }
            }
        }
        true
    }
}

/// Errors a retry cannot fix: Postgres refused this data (class 22, data exception; class 23,
/// integrity violation other than the handled conflict).
fn is_row_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
        _ => false,
    }
}

async fn ack_all(msgs: &[Message], kind: AckKind) {
    let acks = msgs.iter().map(|m| async move {
        if let Err(e) = m.ack_with(kind).await {
            tracing::debug!(error = %e, "audit ack not sent; the message will be redelivered");
        }
    });
    join_all(acks).await;
}
