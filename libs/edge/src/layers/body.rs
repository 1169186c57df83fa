//! Body limit: refuse a declared `Content-Length` over the limit at once, otherwise read the
//! (possibly streamed) body up to the limit and keep it buffered for the layers inside. The
//! whole read is bounded by `read_timeout` too, so a client trickling (or withholding) its
//! body cannot hold a request open: it gets 408 `VALIDATION_ERROR`.
//!
//! NUL characters are refused here, in the path, the query, a form body or a JSON body
//! (raw or as the `\u0000` escape), with 400 `INVALID_INPUT`: no field of the contract can
//! hold one, and Postgres text cannot store one (it would surface as a 500).

use poem::{Endpoint, Request, Response, error::ReadBodyError, http::header};

use super::{BufferedBody, SharedRef, into_response};
use crate::error::ApiError;

pub(crate) struct BodyLimitLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> Endpoint for BodyLimitLayer<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let oauth = req.uri().path().ends_with(OAUTH_TOKEN_PATH);
        let refuse = |e: ApiError| {
            if oauth {
                oauth_invalid_request(&e)
            } else {
                e.to_response()
            }
        };
        if has_encoded_nul(req.uri().path().as_bytes())
            || req
                .uri()
                .query()
                .is_some_and(|q| has_encoded_nul(q.as_bytes()))
        {
            return Ok(refuse(nul_refused()));
        }
        let limit = self.shared.cfg.body_limit;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Ok(refuse(ApiError::payload_too_large()));
        }
        let read = req.take_body().into_bytes_limit(limit);
        let Ok(read) = tokio::time::timeout(self.shared.cfg.read_timeout, read).await else {
            return Ok(refuse(ApiError::body_timeout()));
        };
        let body = match read {
            Ok(b) => b,
            Err(ReadBodyError::PayloadTooLarge) => {
                return Ok(refuse(ApiError::payload_too_large()));
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not read request body");
                return Ok(refuse(ApiError::bad_request("Could not read request body")));
            }
        };
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if body.contains(&0) || contains(&body, b"\\u0000") || (form && has_encoded_nul(&body)) {
            return Ok(refuse(nul_refused()));
        }
        req.extensions_mut().insert(BufferedBody(body.clone()));
        req.set_body(body);
        Ok(into_response(self.inner.call(req).await))
    }
}

/// The token endpoint answers in RFC 6749 §5.2's shape, not the envelope (contract §2.7, §4.1).
const OAUTH_TOKEN_PATH: &str = "/oauth/token";

fn nul_refused() -> ApiError {
    ApiError::bad_request("Input must not contain NUL characters")
}

/// `{"error":"invalid_request","error_description":...}` with the status of `e`.
fn oauth_invalid_request(e: &ApiError) -> Response {
    let body = serde_json::json!({"error": "invalid_request", "error_description": e.message});
    Response::builder()
        .status(e.status)
        .header(header::CONTENT_TYPE, crate::error::JSON_CONTENT_TYPE)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache")
        .body(body.to_string())
}

/// `%00` (percent-encoded NUL) anywhere in `bytes`.
fn has_encoded_nul(bytes: &[u8]) -> bool {
    contains(bytes, b"%00")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::{contains, has_encoded_nul};

    #[test]
    fn finds_encoded_and_escaped_nul() {
        assert!(has_encoded_nul(b"client_id=%00"));
        assert!(!has_encoded_nul(b"client_id=%20a"));
        assert!(contains(br#"{"a":"x\u0000"}"#, b"\\u0000"));
        assert!(!contains(br#"{"a":"x\u0001"}"#, b"\\u0000"));
    }
}
