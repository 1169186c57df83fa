//! Process-wide `tracing` setup shared by every auth-platform binary.
//!
//! [`init`] installs a `tracing-subscriber` fmt layer writing to **stdout** (one event per
//! line, so container runtimes and systemd collect it as the service log; stderr stays free
//! for the start-up failure message). Lines go through one background writer thread
//! ([`writer::BackgroundWriter`]): request threads don't make a `write` call per access-log
//! line; the returned [`LogGuard`] flushes what is queued at the end of `main`. The filter comes from `RUST_LOG` when it is set and
//! valid, else from the `LOG_LEVEL` value passed in, else `info`. Services pass
//! `json = ENVIRONMENT == "production"`: JSON lines in production, human-readable text
//! (coloured only on a terminal) elsewhere. Calling [`init`] again is a harmless no-op.
//!
//! # Layout
//! - `lib.rs`: [`init`] and its filter selection.
//! - `writer.rs`: the background stdout writer and its guard.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub mod writer;

pub use writer::LogGuard;

/// Installs the global subscriber; later calls (e.g. from several tests) do nothing. Keep the
/// returned guard until the process ends: dropping it flushes the queued lines (`None` when
/// a subscriber was already installed).
pub fn init(level: &str, json: bool) -> Option<LogGuard> {
    let (filter, rejected) = filter(std::env::var("RUST_LOG").ok().as_deref(), level);
    let (writer, guard) = writer::BackgroundWriter::spawn(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
            .is_ok()
    } else {
        builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init()
            .is_ok()
    };
    if installed && let Some(bad) = rejected {
        tracing::warn!(filter = %bad, "ignored an invalid log filter; using the fallback");
    }
    installed.then_some(guard)
}

/// Picks the filter: `RUST_LOG` if set and valid, else `level`, else `info`. Also returns
/// the first rejected filter text, if any, so it can be reported once logging works.
fn filter(rust_log: Option<&str>, level: &str) -> (EnvFilter, Option<String>) {
    let mut rejected = None;
    let candidates = [rust_log.filter(|s| !s.trim().is_empty()), Some(level)];
    for text in candidates.into_iter().flatten() {
        match EnvFilter::try_new(text) {
            Ok(f) => return (quiet_dependencies(f), rejected),
            Err(_) => {
                rejected.get_or_insert_with(|| text.to_owned());
            }
        }
    }
    (quiet_dependencies(EnvFilter::new("info")), rejected)
}

/// Postgres' NOTICE messages ("relation already exists, skipping" on every idempotent
/// migration) are not worth an INFO line each.
fn quiet_dependencies(filter: EnvFilter) -> EnvFilter {
    match "sqlx::postgres::notice=warn".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

#[cfg(test)]
mod tests {
    use super::{filter, init};

    #[test]
    fn init_twice_does_not_panic() {
        let _guard = init("debug", true);
        drop(init("info", false));
        drop(init("not a level ===", false));
        tracing::info!("still logging after repeated init");
    }

    #[test]
    fn rust_log_wins_over_level() {
        let (f, rejected) = filter(Some("warn,my_crate=trace"), "debug");
        assert_eq!(
            f.to_string(),
            "sqlx::postgres::notice=warn,my_crate=trace,warn"
        );
        assert_eq!(rejected, None);
    }

    #[test]
    fn falls_back_when_filters_are_invalid() {
        let (f, rejected) = filter(Some("=[bad"), "debug");
        assert_eq!(f.to_string(), "sqlx::postgres::notice=warn,debug");
        assert_eq!(rejected.as_deref(), Some("=[bad"));
        let (f, _) = filter(None, "=[bad");
        assert_eq!(f.to_string(), "sqlx::postgres::notice=warn,info");
        let (f, rejected) = filter(Some("  "), "error");
        assert_eq!(
            (f.to_string(), rejected),
            ("sqlx::postgres::notice=warn,error".to_owned(), None)
        );
    }
}
