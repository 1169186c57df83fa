//! Background tasks: the two bucket watches and the health monitor.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use futures::StreamExt as _;

use super::state::{Shared, Which};

pub(super) async fn monitor(shared: Arc<Shared>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        shared.gate().ok();
        shared.sweep_expired();
    }
}

pub(super) async fn watch_loop(
    store: kv::Store,
    shared: Arc<Shared>,
    which: Which,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut last_rev: u64 = 0;
    let mut backoff = Duration::from_millis(100);
    let mut resets = shared.resets.subscribe();
    loop {
        resets.mark_unchanged();
        // The stream's last sequence before watching: reaching it means we are caught up.
        let target = match store.status().await {
            Ok(s) if s.values() == 0 => Some(0),
            Ok(s) => Some(s.info.state.last_sequence),
            Err(_) => None,
        };
        let watch = if last_rev == 0 {
            store.watch_with_history(">").await
        } else {
            store.watch_all_from_revision(last_rev + 1).await
        };
        let (Some(target), Ok(mut entries)) = (target, watch) else {
            shared.set_up(which, false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
            continue;
        };
        backoff = Duration::from_millis(100);
        // up (trusted) only once everything the bucket held at the start is applied
        if target <= last_rev {
            shared.set_up(which, true);
            signal(&mut ready);
        }
        loop {
            let item = tokio::select! {
                item = entries.next() => item,
                // the connection was lost: start over from `last_rev` on a new consumer
                _ = resets.changed() => break,
            };
            let Some(item) = item else { break };
            // Errors are transient: the ordered consumer recreates itself and resumes.
            let Ok(entry) = item else { continue };
            shared.apply(which, &entry);
            last_rev = last_rev.max(entry.revision);
            if entry.delta == 0 || last_rev >= target {
                shared.set_up(which, true);
                signal(&mut ready);
            }
        }
        shared.set_up(which, false);
    }
}

fn signal(ready: &mut Option<tokio::sync::oneshot::Sender<()>>) {
    if let Some(tx) = ready.take() {
        tx.send(()).ok();
    }
}
