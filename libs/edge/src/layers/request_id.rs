//! Request id: echo a sane `X-Request-ID`, else generate one; store it in the request
//! (extension and header), run the rest inside a tracing span carrying it, and set it on
//! the response.

use poem::{Endpoint, Request, Response, http::HeaderValue};
use tracing::Instrument;

use super::into_response;
use crate::request_id::{REQUEST_ID_HEADER, RequestId, RequestIdSlot, generate, is_sane};

pub(crate) struct RequestIdLayer<E> {
    pub(crate) inner: E,
}

impl<E: Endpoint> Endpoint for RequestIdLayer<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let incoming = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_sane(v));
        let id = incoming.map(str::to_owned).unwrap_or_else(generate);
        // Sane ids and generated ids are visible ASCII, always a valid header value.
        let value = HeaderValue::from_str(&id).ok();
        if let Some(v) = &value {
            req.headers_mut().insert(REQUEST_ID_HEADER, v.clone());
        }
        if let Some(slot) = req.extensions().get::<RequestIdSlot>() {
            let _ = slot.0.set(id.clone());
        }
        req.extensions_mut().insert(RequestId(id.clone()));

        let span = tracing::info_span!("request", request_id = %id);
        let mut resp = into_response(self.inner.call(req).instrument(span).await);
        if let Some(v) = value {
            resp.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        Ok(resp)
    }
}
