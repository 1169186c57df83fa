//! App webhooks (`user.registered`, contract §5.9), delivered durably and never in the
//! registration's reply path.
//!
//! A registration queues one delivery per subscribed webhook as a `jobs` row in its own
//! transaction ([`enqueue_user_registered`]): a registration that rolls back queues nothing,
//! one that commits cannot lose its deliveries. The commit notifies the workers, which POST
//! the JSON (signed when `WEBHOOK_SECRET` is set) and reschedule failures by the contract's
//! schedule. Every replica runs a worker ([`start`]); `for update skip locked` claims and a
//! lease make each attempt happen once, and an attempt cut short by a crash is retried when
//! its lease ends (delivery is at least once: receivers de-duplicate on
//! `X-Vendidit-Delivery`).
//!
//! # Layout
//! - `event.rs`: subscribed hooks and the event bodies.
//! - `deliver.rs`: one HTTP attempt, the signature and the retry schedule.
//! - this file: queueing, one worker pass ([`run_due`], with the clock passed in), the loop.

pub mod deliver;
pub mod event;

use std::time::Duration;

use auth_host::Platform;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use tokio::task::{JoinHandle, JoinSet};
use uuid::Uuid;

pub use deliver::{Attempt, Deliverer};
pub use event::{Registered, USER_REGISTERED};

use crate::repo::webhooks as repo;

/// Deliveries claimed per pass.
const BATCH: i64 = 16;
/// How long a claimed attempt may take before another worker may retry it.
const LEASE: Duration = Duration::from_secs(30);
/// Longest sleep between passes (catches deliveries queued while the listener was down).
const POLL: Duration = Duration::from_secs(5);
/// Finished deliveries are kept this long for inspection.
const KEEP_FINISHED: Duration = Duration::from_secs(7 * 24 * 3600);

fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Queues the `user.registered` deliveries of `event.app`'s subscribed webhooks, in the
/// registration's transaction, first attempts due at once. Returns how many.
pub async fn enqueue_user_registered(
    conn: &mut PgConnection,
    event: &Registered<'_>,
) -> sqlx::Result<usize> {
    let hooks = repo::app_webhooks(&mut *conn, event.app.id).await?;
    let hooks = event::subscribed(&hooks, USER_REGISTERED);
    for hook in &hooks {
        let payload = json!({
            "url": hook.url,
            "name": hook.name,
            "event": USER_REGISTERED,
            "body": event.body_for(hook),
        });
        repo::enqueue(&mut *conn, Uuid::new_v4(), &payload, event.at).await?;
    }
    Ok(hooks.len())
}

/// What one [`run_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Attempts made.
    pub attempts: usize,
    /// Deliveries that succeeded.
    pub delivered: usize,
    /// Deliveries given up.
    pub failed: usize,
}

/// Runs every delivery due at `now` (one attempt each), rescheduling failures from `now`.
pub async fn run_due(
    platform: &Platform,
    deliverer: &Deliverer,
    now: DateTime<Utc>,
) -> sqlx::Result<Pass> {
    let mut pass = Pass::default();
    loop {
        let claimed = repo::claim_due(&platform.db, now, after(now, LEASE), BATCH).await?;
        if claimed.is_empty() {
            return Ok(pass);
        }
        let mut attempts = JoinSet::new();
        for job in claimed {
            let deliverer = deliverer.clone();
            attempts.spawn(async move {
                let outcome = attempt(&deliverer, &job).await;
                (job, outcome)
            });
        }
        while let Some(joined) = attempts.join_next().await {
            let Ok((job, outcome)) = joined else {
                continue; // a panicked attempt: its lease ends and it is retried
            };
            pass.attempts += 1;
            let (status, error, next) = match &outcome {
                Attempt::Delivered => (repo::DELIVERED, None, None),
                Attempt::Rejected(why) => (repo::FAILED, Some(why.as_str()), None),
                Attempt::Failed(why) => match deliver::retry_delay(job.attempts) {
                    Some(delay) => (repo::PENDING, Some(why.as_str()), Some(after(now, delay))),
                    None => (repo::FAILED, Some(why.as_str()), None),
                },
            };
            match status {
                repo::DELIVERED => pass.delivered += 1,
                repo::FAILED => {
                    pass.failed += 1;
                    tracing::warn!(delivery = %job.id, attempts = job.attempts, error = ?error,
                        "webhook delivery given up");
                }
                _ => tracing::info!(delivery = %job.id, attempts = job.attempts, error = ?error,
                    "webhook attempt failed; retry scheduled"),
            }
            repo::finish_attempt(&platform.db, job.id, now, status, error, next).await?;
        }
    }
}

async fn attempt(deliverer: &Deliverer, job: &repo::Claimed) -> Attempt {
    let url = job.payload["url"].as_str().unwrap_or_default();
    let event = job.payload["event"].as_str().unwrap_or(USER_REGISTERED);
    let body = job.payload.get("body").unwrap_or(&Value::Null);
    deliverer.attempt(job.id, url, event, body).await
}

/// The deliverer of `platform`'s settings (signing with `WEBHOOK_SECRET` when set).
pub fn deliverer(platform: &Platform) -> Result<Deliverer, reqwest::Error> {
    let secret = platform
        .settings
        .webhook
        .secret
        .as_ref()
        .map(|s| s.expose().to_owned());
    Deliverer::new(secret)
}

/// Starts the delivery worker; it stops when `platform.shutdown` is cancelled.
pub fn start(platform: &Platform) -> JoinHandle<()> {
    let platform = platform.clone();
    tokio::spawn(async move {
        let deliverer = match deliverer(&platform) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "webhook worker not started: no HTTP client");
                return;
            }
        };
        let mut listener = None;
        let mut last_purge: Option<DateTime<Utc>> = None;
        while !platform.shutdown.is_cancelled() {
            if listener.is_none() {
                listener = listen(&platform).await;
            }
            let now = Utc::now();
            if let Err(e) = run_due(&platform, &deliverer, now).await {
                tracing::warn!(error = %e, "webhook pass failed");
            }
            if last_purge.is_none_or(|t| now - t > chrono::Duration::hours(1)) {
                last_purge = Some(now);
                let before = now - chrono::Duration::from_std(KEEP_FINISHED).unwrap_or_default();
                if let Err(e) = repo::purge_finished(&platform.db, before).await {
                    tracing::warn!(error = %e, "purging finished webhook deliveries failed");
                }
            }
            let wait = match repo::next_due(&platform.db).await {
                Ok(Some(due)) => (due - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(POLL),
                _ => POLL,
            };
            tokio::select! {
                () = platform.shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
                woke = wake(listener.as_mut()) => {
                    if !woke {
                        listener = None;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    })
}

async fn listen(platform: &Platform) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(&platform.db).await.ok()?;
    listener.listen(repo::CHANNEL).await.ok()?;
    Some(listener)
}

/// Waits for a notification; `false` when the listener broke (polling goes on).
async fn wake(listener: Option<&mut PgListener>) -> bool {
    match listener {
        Some(l) => l.recv().await.is_ok(),
        None => std::future::pending().await,
    }
}
