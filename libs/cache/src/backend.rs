//! The Redis side: a lazily connecting `ConnectionManager`, a per-command timeout, and a short
//! back-off after an availability failure so a dead or paused Redis costs one timeout, not one
//! per request (FLT-01, FLT-06).

use std::{
    future::Future,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use redis::{
    Client, ErrorKind, FromRedisValue, RedisError,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use crate::{CacheError, clock::Clock, config::CacheConfig};

/// One Redis connection (multiplexed, reconnecting) plus its availability state.
///
/// The manager reconnects by itself after I/O errors, but not after a timeout, so a timeout
/// also marks the connection stale: the next attempt builds a fresh manager (a Redis that
/// vanished without closing its sockets would otherwise never be reached again).
pub(crate) struct RedisBackend {
    client: Client,
    manager_cfg: ConnectionManagerConfig,
    conn: RwLock<ConnectionManager>,
    stale: AtomicBool,
    op_timeout: Duration,
    retry_interval: Duration,
    down_until: Mutex<Option<Instant>>,
    up: AtomicBool,
    clock: Arc<dyn Clock>,
}

/// Whether a failure says "Redis is not reachable" (as opposed to a bad command).
fn is_availability_error(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped()
}

/// A short, data-free name for a failure Redis answered with: the error-reply code (`OOM`,
/// `READONLY`, `WRONGTYPE`, ...) or the client-side category. Never the reply's free text.
fn refusal_code(e: &RedisError) -> String {
    match e.kind() {
        ErrorKind::Server(_) | ErrorKind::Extension => e.code().unwrap_or("ERR").to_owned(),
        _ => e.category().to_owned(),
    }
}

/// What one Redis request came to.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    /// Redis answered with a value.
    Value(T),
    /// Redis is in back-off, timed out or unreachable: nothing is known about the command.
    Unavailable,
    /// Redis is reachable and answered with an error (an error reply such as `OOM` or
    /// `READONLY`, or a reply of an unexpected type). Holds a short code, no reply text.
    Refused(String),
}

impl<T> Reply<T> {
    /// The value, or `None` for "use the fallback" (both failure kinds).
    pub(crate) fn ok(self) -> Option<T> {
        match self {
            Reply::Value(v) => Some(v),
            Reply::Unavailable | Reply::Refused(_) => None,
        }
    }
}

impl RedisBackend {
    /// Build the manager without connecting; the first command (or [`Self::ping`]) connects.
    pub(crate) fn new(
        url: &str,
        cfg: &CacheConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CacheError> {
        let client = Client::open(url).map_err(|e| CacheError::InvalidUrl(e.to_string()))?;
        let manager_cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(cfg.connect_timeout))
            .set_response_timeout(Some(cfg.op_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(cfg.retry_interval);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_cfg.clone())
            .map_err(|e| CacheError::InvalidUrl(e.to_string()))?;
        Ok(Self {
            client,
            manager_cfg,
            conn: RwLock::new(conn),
            stale: AtomicBool::new(false),
            op_timeout: cfg.op_timeout,
            retry_interval: cfg.retry_interval,
            down_until: Mutex::new(None),
            up: AtomicBool::new(true),
            clock,
        })
    }

    /// The per-command bound.
    pub(crate) fn op_timeout(&self) -> Duration {
        self.op_timeout
    }

    /// False while in the back-off that follows an availability failure.
    pub(crate) fn is_up(&self) -> bool {
        let guard = self
            .down_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match *guard {
            Some(until) => self.clock.now() >= until,
            None => true,
        }
    }

    fn mark_down(&self, why: &str) {
        let until = self.clock.now() + self.retry_interval;
        *self
            .down_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(until);
        if self.up.swap(false, Ordering::SeqCst) {
            tracing::warn!(reason = why, "redis unavailable; using fallbacks");
        }
    }

    fn mark_up(&self) {
        *self
            .down_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        if !self.up.swap(true, Ordering::SeqCst) {
            tracing::info!("redis available again");
        }
    }

    /// The connection to use now, replacing a stale one first.
    fn connection(&self) -> ConnectionManager {
        if self.stale.swap(false, Ordering::SeqCst) {
            match ConnectionManager::new_lazy_with_config(
                self.client.clone(),
                self.manager_cfg.clone(),
            ) {
                Ok(fresh) => {
                    *self.conn.write().unwrap_or_else(|p| p.into_inner()) = fresh;
                }
                Err(e) => tracing::warn!(error = %e, "could not rebuild the redis connection"),
            }
        }
        self.conn.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn timed_out(&self, what: &str) {
        self.stale.store(true, Ordering::SeqCst);
        self.mark_down(what);
    }

    /// Run one request against Redis within the op timeout, telling an unreachable Redis
    /// (back-off, timeout, I/O failure) apart from one that answered with an error.
    pub(crate) async fn run<T, F, Fut>(&self, f: F) -> Reply<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        if !self.is_up() {
            return Reply::Unavailable;
        }
        match tokio::time::timeout(self.op_timeout, f(self.connection())).await {
            Ok(Ok(v)) => {
                self.mark_up();
                Reply::Value(v)
            }
            Ok(Err(e)) if e.is_timeout() => {
                self.timed_out(&e.to_string());
                Reply::Unavailable
            }
            Ok(Err(e)) if is_availability_error(&e) => {
                self.mark_down(&e.to_string());
                Reply::Unavailable
            }
            Ok(Err(e)) => {
                let code = refusal_code(&e);
                tracing::warn!(code = %code, "redis answered a command with an error");
                Reply::Refused(code)
            }
            Err(_) => {
                self.timed_out("operation timed out");
                Reply::Unavailable
            }
        }
    }

    /// Run one command, see [`Self::run`].
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: redis::Cmd) -> Reply<T> {
        self.run(|mut c| async move { cmd.query_async::<T>(&mut c).await })
            .await
    }

    /// PING within `limit`, ignoring the back-off; closes or opens it according to the answer.
    pub(crate) async fn ping(&self, limit: Duration) -> bool {
        let cmd = redis::cmd("PING");
        let mut conn = self.connection();
        match tokio::time::timeout(limit, cmd.query_async::<String>(&mut conn)).await {
            Ok(Ok(_)) => {
                self.mark_up();
                true
            }
            Ok(Err(e)) if e.is_timeout() => {
                self.timed_out(&e.to_string());
                false
            }
            Ok(Err(e)) => {
                self.mark_down(&e.to_string());
                false
            }
            Err(_) => {
                self.timed_out("ping timed out");
                false
            }
        }
    }
}
