//! Innermost layer: every error of the router or a handler becomes the contract envelope,
//! with the buffered body and schema hints at hand to name the offending field.

use poem::{Endpoint, IntoResponse, PathPattern, Request, Response};

use super::{BufferedBody, SharedRef};
use crate::{
    error::{ErrorContext, error_response},
    request_id::RequestId,
};

pub(crate) struct ErrorLayer<E> {
    pub(crate) inner: E,
    pub(crate) shared: SharedRef,
}

impl<E: Endpoint> Endpoint for ErrorLayer<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let body = req.extensions().get::<BufferedBody>().map(|b| b.0.clone());
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        match self.inner.call(req).await {
            Ok(out) => Ok(out.into_response()),
            Err(err) => {
                let pattern = err.data::<PathPattern>().cloned();
                let cx = ErrorContext {
                    body: body.as_ref(),
                    hints: self.shared.hints.as_ref(),
                    request_id: request_id.as_deref(),
                };
                let mut resp = error_response(err, &cx);
                if let Some(p) = pattern {
                    resp.set_data(p);
                }
                Ok(resp)
            }
        }
    }
}
