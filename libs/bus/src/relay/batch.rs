//! One relay pass: claim a batch with `for update skip locked`, publish it, mark it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, join_all};
use sqlx::PgPool;
use uuid::Uuid;

use crate::connection::{Bus, Topology};
use crate::error::{BusError, Result};
use crate::kv::{put_forward, put_revoked};
use crate::outbox::{RevokedJtiPayload, Route, TokenVersionPayload, route};
use crate::relay::RelayStats;
use crate::token_version::TokenVersionMirror;

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Rows claimed.
    pub claimed: usize,
    /// Rows delivered (published, applied, or dropped as undeliverable) and marked.
    pub delivered: usize,
    /// Rows left unpublished for a later pass.
    pub failed: usize,
}

/// Per-row result of delivery.
enum Delivery {
    Done,
    /// Can never succeed (malformed payload of a KV topic); marked so it cannot clog.
    Dropped,
    Failed(BusError),
}

/// Everything a pass needs, borrowed from the relay.
pub(crate) struct Pass<'a> {
    pub pool: &'a PgPool,
    pub bus: &'a Bus,
    pub mirror: Option<&'a Arc<dyn TokenVersionMirror>>,
    pub stats: &'a RelayStats,
    pub batch_size: i64,
}

impl Pass<'_> {
    /// Claims up to `batch_size` unpublished rows (oldest first, skipping rows locked by
    /// other relays and rows in `deferred`), delivers them, marks the delivered ones.
    pub async fn run(&self, deferred: &[Uuid]) -> Result<(BatchOutcome, Vec<Uuid>)> {
        let topology = self.bus.topology().await?;
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
            "select id, topic, payload::text from outbox \
             where published_at is null and id <> all($2) \
             order by created_at limit $1 for update skip locked",
        )
        .bind(self.batch_size)
        .bind(deferred)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok((BatchOutcome::default(), Vec::new()));
        }
        let results = self.deliver(topology, rows).await;

        let mut outcome = BatchOutcome {
            claimed: results.len(),
            ..BatchOutcome::default()
        };
        let mut done = Vec::with_capacity(results.len());
        let mut failed = Vec::new();
        let mut first_error = None;
        for (id, result) in results {
            match result {
                Delivery::Done => done.push(id),
                Delivery::Dropped => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    done.push(id);
                }
                Delivery::Failed(e) => {
                    first_error.get_or_insert(e);
                    failed.push(id);
                }
            }
        }
        if !done.is_empty() {
            sqlx::query("update outbox set published_at = now() where id = any($1)")
                .bind(&done)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        outcome.delivered = done.len();
        outcome.failed = failed.len();
        self.stats
            .delivered
            .fetch_add(done.len() as u64, Ordering::Relaxed);
        if let Some(e) = first_error {
            tracing::warn!(failed = failed.len(), error = %e, "outbox rows left for retry");
        }
        Ok((outcome, failed))
    }

    /// Sends every audit row's publish first, then awaits all acks together with the
    /// key-value writes, so a batch costs about one round trip.
    async fn deliver(
        &self,
        topology: &Topology,
        rows: Vec<(Uuid, String, String)>,
    ) -> Vec<(Uuid, Delivery)> {
        let js = self.bus.jetstream();
        let mut acks: Vec<BoxFuture<'_, (Uuid, Delivery)>> = Vec::new();
        let mut others: Vec<BoxFuture<'_, (Uuid, Delivery)>> = Vec::new();
        let mut ready = Vec::new();
        for (id, topic, payload) in rows {
            match route(&topic) {
                Some(Route::Audit) => {
                    let msg = PublishMessage::build()
                        .payload(Bytes::from(payload))
                        .message_id(id.to_string());
                    match js
                        .send_publish(self.bus.config().subject(&topic), msg)
                        .await
                    {
                        Ok(ack) => acks.push(
                            async move {
                                let r = match ack.await {
                                    Ok(_) => Delivery::Done,
                                    Err(e) => Delivery::Failed(BusError::nats("publish ack", e)),
                                };
                                (id, r)
                            }
                            .boxed(),
                        ),
                        Err(e) => ready.push((id, Delivery::Failed(BusError::nats("publish", e)))),
                    }
                }
                Some(Route::TokenVersion) => {
                    others.push(self.apply_token_version(topology, id, payload).boxed());
                }
                Some(Route::RevokedJti) => {
                    others.push(apply_revoked(topology, id, payload).boxed());
                }
                None => {
                    tracing::error!(%id, topic, "outbox row with an unroutable topic dropped");
                    ready.push((id, Delivery::Dropped));
                }
            }
        }
        let (acked, applied) = futures::join!(join_all(acks), join_all(others));
        ready.extend(acked);
        ready.extend(applied);
        ready
    }

    async fn apply_token_version(
        &self,
        topology: &Topology,
        id: Uuid,
        payload: String,
    ) -> (Uuid, Delivery) {
        let Ok(p) = serde_json::from_str::<TokenVersionPayload>(&payload) else {
            tracing::error!(%id, "malformed token_version outbox row dropped");
            return (id, Delivery::Dropped);
        };
        let key = p.user_id.to_string();
        if let Err(e) = put_forward(&topology.token_versions, &key, p.version).await {
            return (id, Delivery::Failed(e));
        }
        self.stats.kv_applied.fetch_add(1, Ordering::Relaxed);
        if let Some(mirror) = self.mirror
            && let Err(e) = mirror.set_version(p.user_id, p.version).await
        {
            return (id, Delivery::Failed(BusError::Mirror(e)));
        }
        (id, Delivery::Done)
    }
}

async fn apply_revoked(topology: &Topology, id: Uuid, payload: String) -> (Uuid, Delivery) {
    let Ok(p) = serde_json::from_str::<RevokedJtiPayload>(&payload) else {
        tracing::error!(%id, "malformed revoked_jti outbox row dropped");
        return (id, Delivery::Dropped);
    };
    if p.expires_at <= chrono::Utc::now() {
        return (id, Delivery::Done);
    }
    match put_revoked(&topology.revoked_jti, &p.jti).await {
        Ok(()) => (id, Delivery::Done),
        Err(e) => (id, Delivery::Failed(e)),
    }
}

/// Rows that failed recently and are skipped until their retry time, so a few
/// failing rows can never starve the rest of the queue.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    until: HashMap<Uuid, Instant>,
}

/// Cap on remembered failing rows; beyond it rows are simply retried in order.
const MAX_DEFERRED: usize = 10_000;

impl Deferred {
    /// Ids still waiting, after forgetting the expired ones.
    pub fn active(&mut self, now: Instant) -> Vec<Uuid> {
        self.until.retain(|_, t| *t > now);
        self.until.keys().copied().collect()
    }

    /// Skips `ids` until `until`.
    pub fn defer(&mut self, ids: Vec<Uuid>, until: Instant) {
        for id in ids {
            if self.until.len() >= MAX_DEFERRED {
                break;
            }
            self.until.insert(id, until);
        }
    }
}
