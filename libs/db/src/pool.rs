//! Building the connection pool and probing it.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::{DbConfig, DbError};

/// How long [`ping`] waits for Postgres before reporting it not ready.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Build a pool for `config` without touching the network: connections open on first use, so
/// a service starts while Postgres is down and recovers by itself when it comes back (each
/// acquire then waits at most `config.connect_timeout`). Fails only on settings that cannot
/// describe a connection. (It is `async` only because the pool's upkeep task needs a Tokio
/// runtime; it never waits on the network.)
pub async fn connect(config: &DbConfig) -> Result<PgPool, DbError> {
    if config.max_connections == 0 {
        return Err(DbError::Config("max_connections must be at least 1".into()));
    }
    let options = config.connect_options()?;
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .min_connections(config.min_connections.min(config.max_connections))
        .acquire_timeout(config.connect_timeout)
        .max_lifetime(config.max_lifetime)
        .connect_lazy_with(options);
    Ok(pool)
}

/// Whether Postgres answers a trivial query within [`PING_TIMEOUT`] (for `/ready`).
pub async fn ping(pool: &PgPool) -> bool {
    ping_within(pool, PING_TIMEOUT).await
}

/// Whether Postgres answers a trivial query within `timeout`.
pub async fn ping_within(pool: &PgPool, timeout: Duration) -> bool {
    let probe = sqlx::query("select 1").execute(pool);
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "database ping failed");
            false
        }
        Err(_) => {
            tracing::debug!(?timeout, "database ping timed out");
            false
        }
    }
}
