//! Panic recovery: a panic anywhere inside becomes the generic 500 envelope (no panic text),
//! still carrying the request id, the security headers and CORS.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use poem::{Endpoint, Request, Response, http::header};

use super::{SharedRef, headers, into_response};
use crate::{
    error::ApiError,
    request_id::{REQUEST_ID_HEADER, RequestIdSlot},
};

pub(crate) struct PanicLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> &str {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

impl<E: Endpoint> Endpoint for PanicLayer<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let slot = RequestIdSlot::default();
        req.extensions_mut().insert(slot.clone());
        let origin = req.headers().get(header::ORIGIN).cloned();
        let method = req.method().clone();
        let started = std::time::Instant::now();
        match AssertUnwindSafe(self.inner.call(req)).catch_unwind().await {
            Ok(r) => Ok(into_response(r)),
            Err(payload) => {
                let request_id = slot.0.get().map(String::as_str);
                tracing::error!(
                    request_id = request_id.unwrap_or("-"),
                    panic = panic_text(payload.as_ref()),
                    "handler panicked"
                );
                let mut resp = ApiError::internal("panic").to_response();
                if let Some(id) = request_id.and_then(|id| id.parse().ok()) {
                    resp.headers_mut().insert(REQUEST_ID_HEADER, id);
                }
                headers::security(&mut resp, &self.shared.cfg);
                headers::cors(&mut resp, origin.as_ref(), &self.shared.cfg, false);
                self.shared
                    .metrics
                    .record(&method, "unmatched", 500, started.elapsed());
                Ok(resp)
            }
        }
    }
}
