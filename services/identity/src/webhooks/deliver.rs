//! One HTTP attempt and the retry schedule of contract §5.9: three attempts, 0 / 2 / 4 s
//! apart, 5 s timeout each, 4xx never retried.
//!
//! What a request can and cannot do (webhook URLs are set by system admins only, checked as
//! absolute http(s) URLs by the admin API and again here): redirects are not followed, the
//! response body is never read (only the status counts), every attempt ends within the
//! timeout, and the body holds only the registration's own data. Private addresses are
//! allowed on purpose: in-cluster receivers are a normal target.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

/// Attempts per delivery.
pub const MAX_ATTEMPTS: i32 = 3;
/// Timeout of one attempt (connect included).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Header naming the event.
pub const EVENT_HEADER: &str = "X-Vendidit-Event";
/// Header with the delivery id (the same on every attempt: receivers de-duplicate on it).
pub const DELIVERY_HEADER: &str = "X-Vendidit-Delivery";
/// Header with `sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, body)>` when a secret is set.
pub const SIGNATURE_HEADER: &str = "X-Vendidit-Signature";

/// How long after failed attempt number `attempt` (1-based) the next one is due; `None`
/// when no attempt is left.
#[must_use]
pub fn retry_delay(attempt: i32) -> Option<Duration> {
    match attempt {
        1 => Some(Duration::from_secs(2)),
        2 => Some(Duration::from_secs(4)),
        _ => None,
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx.
    Delivered,
    /// 4xx (or a redirect, which is not followed): retrying cannot help.
    Rejected(String),
    /// 5xx, timeout or a network error: worth another attempt.
    Failed(String),
}

/// The signature header value for `body` under `secret`.
#[must_use]
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends deliveries: a shared HTTP client and the optional signing secret.
#[derive(Clone, Debug)]
pub struct Deliverer {
    client: reqwest::Client,
    secret: Option<String>,
}

impl Deliverer {
    /// A deliverer signing with `secret` (`WEBHOOK_SECRET`) when given.
    pub fn new(secret: Option<String>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "auth-platform-webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self { client, secret })
    }

    /// One attempt of delivery `id`: POST `body` as JSON to `url`.
    pub async fn attempt(&self, id: Uuid, url: &str, event: &str, body: &Value) -> Attempt {
        let bytes = match serde_json::to_vec(body) {
            Ok(b) => b,
            Err(e) => return Attempt::Rejected(format!("unserialisable body: {e}")),
        };
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, event)
            .header(DELIVERY_HEADER, id.to_string());
        if let Some(secret) = &self.secret {
            req = req.header(SIGNATURE_HEADER, signature(secret, &bytes));
        }
        match req.body(bytes).send().await {
            Ok(resp) => classify(resp.status()),
            // the error text can name the URL, which may carry a token: keep only its kind
            Err(e) if e.is_timeout() => Attempt::Failed("timeout".to_owned()),
            Err(e) if e.is_connect() => Attempt::Failed("connection failed".to_owned()),
            Err(e) if e.is_builder() => Attempt::Rejected("invalid URL".to_owned()),
            Err(_) => Attempt::Failed("request failed".to_owned()),
        }
    }
}

fn classify(status: reqwest::StatusCode) -> Attempt {
    if status.is_success() {
        Attempt::Delivered
    } else if status.is_client_error() || status.is_redirection() {
        Attempt::Rejected(format!("HTTP {}", status.as_u16()))
    } else {
        Attempt::Failed(format!("HTTP {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_three_attempts_two_and_four_seconds_apart() {
        assert_eq!(retry_delay(1), Some(Duration::from_secs(2)));
        assert_eq!(retry_delay(2), Some(Duration::from_secs(4)));
        assert_eq!(retry_delay(MAX_ATTEMPTS), None);
    }

    #[test]
    fn statuses() {
        use reqwest::StatusCode as S;
        assert_eq!(classify(S::NO_CONTENT), Attempt::Delivered);
        assert!(matches!(classify(S::NOT_FOUND), Attempt::Rejected(_)));
        assert!(matches!(classify(S::FOUND), Attempt::Rejected(_)));
        assert!(matches!(classify(S::BAD_GATEWAY), Attempt::Failed(_)));
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
