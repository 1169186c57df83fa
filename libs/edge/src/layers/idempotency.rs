//! Idempotent POSTs (contract §1): with an `Idempotency-Key` (≤ 200 characters, longer is
//! 400 `INVALID_INPUT`) and Redis up, the reply (status, headers, body) is kept for
//! `idempotency_ttl` under `idem:<sha256>` and replayed verbatim, plus an
//! `Idempotency-Replayed: true` header [P]. 5xx replies are never kept, nor 429 [P] (both are
//! transient). Without Redis the layer does nothing.
//!
//! The hash covers key, path and body like the original, plus [P] the `Authorization` header,
//! so one caller can never be served another caller's reply. While the first request with a
//! key is still running, a second one gets 409 `CONFLICT` [P] instead of running twice. Only
//! a key Redis says is held is a conflict: when reserving it fails (Redis unreachable, or
//! answering with an error reply such as `OOM` or `READONLY`) the request runs without
//! idempotency, as it would without Redis.

use std::time::Duration;

use auth_cache::{CacheError, Fallback};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use bytes::Bytes;
use poem::{
    Endpoint, Request, Response,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{BufferedBody, SharedRef, into_response};
use crate::error::ApiError;

/// The request header.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Added to a replayed reply.
pub const REPLAYED_HEADER: &str = "idempotency-replayed";
const MAX_KEY_LEN: usize = 200;
/// How long a first request may hold its key before another may run.
const LOCK_TTL: Duration = Duration::from_secs(60);

#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn cache_key(key: &str, path: &str, body: &[u8], authorization: Option<&[u8]>) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update(path.as_bytes());
    h.update(body);
    if let Some(a) = authorization {
        h.update(b"\0authorization\0");
        h.update(a);
    }
    format!("idem:{}", hex::encode(h.finalize()))
}

fn encode(status: StatusCode, headers: &poem::http::HeaderMap, body: &[u8]) -> Option<Vec<u8>> {
    let stored = Stored {
        status: status.as_u16(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), B64.encode(v.as_bytes())))
            .collect(),
        body: B64.encode(body),
    };
    serde_json::to_vec(&stored).ok()
}

fn decode(raw: &[u8]) -> Option<Response> {
    let stored: Stored = serde_json::from_slice(raw).ok()?;
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(stored.status).ok()?)
        .body(B64.decode(stored.body).ok()?);
    for (name, value) in stored.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(&B64.decode(value).ok()?).ok()?;
        resp.headers_mut().append(name, value);
    }
    resp.headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    Some(resp)
}

/// What to do after trying to reserve the key's lock.
#[derive(Debug, PartialEq, Eq)]
enum Reservation {
    /// This request holds the lock: run it and keep the reply.
    Held,
    /// Another request holds it: 409.
    Busy,
    /// Redis could not tell: run the request without idempotency.
    Unknown,
}

/// Read the answer of `SET NX` (asked with [`Fallback::Fail`]).
fn reservation(reserved: Result<bool, CacheError>) -> Reservation {
    match reserved {
        Ok(true) => Reservation::Held,
        Ok(false) => Reservation::Busy,
        Err(e) => {
            tracing::warn!(error = %e, "idempotency key not reserved; running without idempotency");
            Reservation::Unknown
        }
    }
}

pub(crate) struct IdempotencyLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> IdempotencyLayer<E> {
    async fn pass(&self, req: Request) -> poem::Result<Response> {
        Ok(into_response(self.inner.call(req).await))
    }
}

impl<E: Endpoint> Endpoint for IdempotencyLayer<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.method() != Method::POST {
            return self.pass(req).await;
        }
        let Some(raw_key) = req.headers().get(IDEMPOTENCY_KEY_HEADER) else {
            return self.pass(req).await;
        };
        let Ok(key) = raw_key.to_str().map(str::trim) else {
            return Ok(
                ApiError::invalid_input("Idempotency-Key", "Invalid Idempotency-Key").to_response(),
            );
        };
        if key.chars().count() > MAX_KEY_LEN {
            return Ok(ApiError::invalid_input(
                "Idempotency-Key",
                "Idempotency-Key must be at most 200 characters",
            )
            .to_response());
        }
        let cache = &self.shared.cache;
        if key.is_empty() || !cache.redis_up() {
            return self.pass(req).await;
        }
        let body = req
            .extensions()
            .get::<BufferedBody>()
            .map(|b| b.0.clone())
            .unwrap_or_default();
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        let idem = cache_key(key, req.uri().path(), &body, authorization.as_deref());

        if let Ok(Some(raw)) = cache.get(&idem, Fallback::Skip).await
            && let Some(resp) = decode(&raw)
        {
            return Ok(resp);
        }
        let lock = format!("{idem}:lock");
        match reservation(cache.set_nx_ex(&lock, b"1", LOCK_TTL, Fallback::Fail).await) {
            Reservation::Held => {}
            Reservation::Unknown => return self.pass(req).await,
            Reservation::Busy => {
                return Ok(ApiError::conflict(
                    "A request with this Idempotency-Key is still being processed",
                )
                .to_response());
            }
        }

        let mut resp = into_response(self.inner.call(req).await);
        let status = resp.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            let _ = cache.del(&lock, Fallback::Skip).await;
            return Ok(resp);
        }
        let body: Bytes = match resp.take_body().into_bytes().await {
            Ok(b) => b,
            Err(e) => {
                let _ = cache.del(&lock, Fallback::Skip).await;
                return Ok(ApiError::internal(format!("reading reply body: {e}")).to_response());
            }
        };
        if let Some(encoded) = encode(status, resp.headers(), &body) {
            let ttl = self.shared.cfg.idempotency_ttl;
            let _ = cache.set_ex(&idem, &encoded, ttl, Fallback::Skip).await;
        }
        let _ = cache.del(&lock, Fallback::Skip).await;
        resp.set_body(body);
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_every_part() {
        let base = cache_key("k", "/p", b"{}", None);
        assert!(base.starts_with("idem:") && base.len() == 5 + 64);
        assert_ne!(base, cache_key("k2", "/p", b"{}", None));
        assert_ne!(base, cache_key("k", "/q", b"{}", None));
        assert_ne!(base, cache_key("k", "/p", b"{ }", None));
        assert_ne!(base, cache_key("k", "/p", b"{}", Some(b"Bearer x")));
    }

    // A Redis error reply (OOM, READONLY) is not "held by another request": the request runs
    // without idempotency instead of answering 409.
    #[test]
    fn only_a_held_key_is_a_conflict() {
        assert_eq!(reservation(Ok(true)), Reservation::Held);
        assert_eq!(reservation(Ok(false)), Reservation::Busy);
        assert_eq!(
            reservation(Err(CacheError::Rejected("OOM".to_owned()))),
            Reservation::Unknown
        );
        assert_eq!(
            reservation(Err(CacheError::Unavailable)),
            Reservation::Unknown
        );
    }

    #[test]
    fn stored_replies_round_trip() {
        let mut h = poem::http::HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.append("x-multi", HeaderValue::from_static("a"));
        h.append("x-multi", HeaderValue::from_static("b"));
        let raw = encode(StatusCode::CREATED, &h, b"{\"id\":1}").unwrap();
        let resp = decode(&raw).unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers().get_all("x-multi").iter().count(), 2);
        assert_eq!(resp.headers()[REPLAYED_HEADER], "true");
    }
}
