//! The cleanup jobs' runtime (contract §2.11): an hourly scheduler started with the service
//! ([`start`]), and manual triggers. State lives in the `jobs` table, so every replica sees
//! the same pause flags and last runs, and a claim (`for update skip locked` plus the
//! `running` status) lets only one replica run a given job at a time.

use std::time::Duration;

use auth_host::Platform;
use tokio::task::JoinHandle;

use crate::domain::jobs::JobName;
use crate::flows::common::Now;
use crate::repo::jobs;

/// How often each replica looks for due jobs (their own interval is in the table).
pub const TICK: Duration = Duration::from_secs(60);

/// Starts the scheduler; it stops when `platform.shutdown` is cancelled.
pub fn start(platform: &Platform) -> JoinHandle<()> {
    start_with_tick(platform, TICK)
}

/// [`start`] with another polling period (tests).
pub fn start_with_tick(platform: &Platform, tick: Duration) -> JoinHandle<()> {
    let platform = platform.clone();
    tokio::spawn(async move {
        loop {
            run_due(&platform).await;
            tokio::select! {
                () = platform.shutdown.cancelled() => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    })
}

/// Runs every job that is due and not paused, one claim at a time.
async fn run_due(platform: &Platform) {
    while !platform.shutdown.is_cancelled() {
        match claim(platform, None).await {
            Some(job) => run_claimed(platform, job).await,
            None => return,
        }
    }
}

/// Runs `job` now, in the background, whatever its schedule or pause flag, unless another
/// run of it is in progress somewhere.
pub fn trigger(platform: &Platform, job: JobName) {
    let platform = platform.clone();
    tokio::spawn(async move {
        match claim(&platform, Some(job)).await {
            Some(job) => run_claimed(&platform, job).await,
            None => tracing::info!(job = %job, "trigger skipped: the job is already running"),
        }
    });
}

async fn claim(platform: &Platform, only: Option<JobName>) -> Option<JobName> {
    let now = Now::read(platform).ok()?;
    match jobs::claim(&platform.db, only, now.at).await {
        Ok(job) => job,
        Err(e) => {
            tracing::warn!(error = %e, "claiming a cleanup job failed");
            None
        }
    }
}

async fn run_claimed(platform: &Platform, job: JobName) {
    let outcome = match Now::read(platform) {
        Ok(now) => jobs::cleanup(&platform.db, job, now.at)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match &outcome {
        Ok(removed) => tracing::info!(job = %job, removed, "cleanup job finished"),
        Err(e) => tracing::error!(job = %job, error = %e, "cleanup job failed"),
    }
    let finished = match Now::read(platform) {
        Ok(now) => jobs::finish(&platform.db, job, now.at, &outcome)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = finished {
        tracing::warn!(job = %job, error = %e, "recording the end of a cleanup job failed");
    }
}
