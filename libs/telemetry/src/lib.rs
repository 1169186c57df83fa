//! Process-wide `tracing` setup shared by every auth-platform binary.
//!
//! [`init`] installs a `tracing-subscriber` fmt layer writing to **stdout** (one event per
//! line, so container runtimes and systemd collect it as the service log; stderr stays free
//! for the start-up failure message). The filter comes from `RUST_LOG` when it is set and
//! valid, else from the `LOG_LEVEL` value passed in, else `info`. Services pass
//! `json = ENVIRONMENT == "production"`: JSON lines in production, human-readable text
//! (coloured only on a terminal) elsewhere. Calling [`init`] again is a harmless no-op.
//!
//! # Layout
//! - `lib.rs`: [`init`] and its filter selection.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls (e.g. from several tests) do nothing.
pub fn init(level: &str, json: bool) {
    let (filter, rejected) = filter(std::env::var("RUST_LOG").ok().as_deref(), level);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
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
        init("debug", true);
        init("info", false);
        init("not a level ===", false);
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
