//! Body limit: refuse a declared `Content-Length` over the limit at once, otherwise read the
//! (possibly streamed) body up to the limit and keep it buffered for the layers inside. The
//! whole read is bounded by `read_timeout` too, so a client trickling (or withholding) its
//! body cannot hold a request open: it gets 408 `VALIDATION_ERROR`.

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
        let limit = self.shared.cfg.body_limit;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Ok(ApiError::payload_too_large().to_response());
        }
        let read = req.take_body().into_bytes_limit(limit);
        let Ok(read) = tokio::time::timeout(self.shared.cfg.read_timeout, read).await else {
            return Ok(ApiError::body_timeout().to_response());
        };
        let body = match read {
            Ok(b) => b,
            Err(ReadBodyError::PayloadTooLarge) => {
                return Ok(ApiError::payload_too_large().to_response());
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not read request body");
                return Ok(ApiError::bad_request("Could not read request body").to_response());
            }
        };
        req.extensions_mut().insert(BufferedBody(body.clone()));
        req.set_body(body);
        Ok(into_response(self.inner.call(req).await))
    }
}
