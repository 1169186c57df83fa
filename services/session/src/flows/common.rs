//! Pieces the flows share: the calling client and one reading of the clock.

use std::time::Duration;

use auth_bus::{AuditAction, AuditEvent};
use auth_edge::ClientIp;
use auth_host::Platform;
use auth_tokens::DeviceInfo;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::http::header;

/// Longest user agent kept on rows and audit events.
const MAX_USER_AGENT: usize = 512;

/// Who is calling: address and user agent, for session rows and audit events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    /// Resolved client IP (the edge stored it).
    pub ip: Option<String>,
    /// `User-Agent`, at most 512 characters.
    pub user_agent: Option<String>,
}

impl Client {
    /// From the request.
    #[must_use]
    pub fn of(req: &Request) -> Self {
        let ip = req
            .extensions()
            .get::<ClientIp>()
            .map(|ip| ip.0.to_string());
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        Self { ip, user_agent }
    }

    /// As token issuance stores it.
    #[must_use]
    pub fn device(&self) -> DeviceInfo {
        DeviceInfo {
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }

    /// An audit event at `at` with this client filled in.
    #[must_use]
    pub fn event(&self, action: AuditAction, at: DateTime<Utc>) -> AuditEvent {
        AuditEvent::at(action, at).client(self.ip.clone(), self.user_agent.clone())
    }
}

/// One reading of the platform's clock (the signer's, so tokens and rows agree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Whole seconds (`iat`).
    pub secs: i64,
    /// Millisecond instant for rows.
    pub at: DateTime<Utc>,
}

impl Now {
    /// Reads the clock; an out-of-range clock is an internal error.
    pub fn read(platform: &Platform) -> anyhow::Result<Self> {
        let ms = platform.signer.clock().now_ms();
        let at = DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
        Ok(Self {
            secs: ms.div_euclid(1000),
            at,
        })
    }
}

/// Bound on the immediate bucket put after commit (the outbox relay retries anyway).
const IMMEDIATE_PUT_TIMEOUT: Duration = Duration::from_millis(500);

/// After the commit that enqueued revoked id `id` (a `jti` or a session id): puts it in the
/// NATS bucket at once, best effort, so every watcher sees it without waiting for the outbox
/// relay's next pass; the relay guarantees delivery if this fails (NATS down).
pub async fn put_revoked_now(platform: &Platform, id: &str, expires_at: DateTime<Utc>, now: Now) {
    let ttl = (expires_at - now.at).to_std().unwrap_or_default();
    let put = auth_bus::revoke_jti(&platform.bus, id, ttl);
    match tokio::time::timeout(IMMEDIATE_PUT_TIMEOUT, put).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "revoked id left to the outbox relay"),
        Err(_) => tracing::debug!("revoked id put timed out; left to the outbox relay"),
    }
}
