//! Turning any `poem::Error` that reaches the edge into the contract envelope.

use bytes::Bytes;
use poem::{
    Response,
    error::{MethodNotAllowedError, NotFoundError},
    http::{StatusCode, header},
};
use poem_openapi::error::{
    ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError,
    ParseRequestPayloadError,
};
use serde_json::Value;

use super::{ApiError, ErrorCode};
use crate::hints::{FieldHints, FieldProblem, field_named_in, outer_type};

/// What the error layer knows about the request besides the error.
#[derive(Default)]
pub(crate) struct ErrorContext<'a> {
    pub(crate) body: Option<&'a Bytes>,
    pub(crate) hints: Option<&'a FieldHints>,
    pub(crate) request_id: Option<&'a str>,
}

/// Map a framework or handler error to an envelope response, without request context.
///
/// Parse errors (malformed JSON, missing or mistyped fields, bad parameters, wrong content
/// type) become 400 `INVALID_INPUT` (`details.field` when the message names it), a too-large
/// body 413 `VALIDATION_ERROR`, unknown paths 404 `NOT_FOUND`, wrong methods 405
/// `METHOD_NOT_ALLOWED`, and any untyped 5xx the generic 500. [`crate::wrap`] already does
/// this, with the request body at hand so missing fields are named too; use this function
/// where a poem-openapi response type wants a `bad_request_handler`, or with
/// `EndpointExt::catch_all_error` outside the edge.
pub fn bad_request_handler(err: poem::Error) -> Response {
    error_response(err, &ErrorContext::default())
}

/// The INVALID_INPUT error for a poem-openapi body that did not parse.
fn payload_error(reason: &str, cx: &ErrorContext<'_>) -> ApiError {
    if let Some(field) = field_named_in(reason) {
        return ApiError::invalid_input(&field, format!("Invalid value for field '{field}'"));
    }
    let problem = match (outer_type(reason), cx.body, cx.hints) {
        (Some(ty), Some(body), Some(hints)) => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| hints.problem(ty, &v)),
        _ => None,
    };
    match problem {
        Some(FieldProblem::Missing(f)) => {
            ApiError::invalid_input(&f, format!("Field '{f}' is required"))
        }
        Some(FieldProblem::WrongType(f)) => {
            ApiError::invalid_input(&f, format!("Invalid value for field '{f}'"))
        }
        None => ApiError::bad_request("Invalid request body"),
    }
}

/// The envelope for a status whose error carried no envelope of its own.
fn by_status(status: StatusCode) -> ApiError {
    let (code, message) = match status.as_u16() {
        401 => (ErrorCode::Unauthorized, "Missing authorization token"),
        403 => (ErrorCode::Forbidden, "Forbidden"),
        404 => (ErrorCode::NotFound, "Not found"),
        405 => (ErrorCode::MethodNotAllowed, "Method not allowed"),
        409 => (ErrorCode::Conflict, "Conflict"),
        413 => return ApiError::payload_too_large(),
        415 => return ApiError::bad_request("Unsupported Content-Type"),
        429 => (ErrorCode::RateLimited, "Too many requests"),
        503 => return ApiError::unavailable("dependency unavailable"),
        s if s >= 500 => return ApiError::internal("untyped server error"),
        _ => (ErrorCode::InvalidInput, "Invalid request"),
    };
    ApiError::new(code, message).with_status(status)
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"))
}

fn log_5xx(status: StatusCode, cause: &dyn std::fmt::Display, request_id: Option<&str>) {
    tracing::error!(
        status = status.as_u16(),
        request_id = request_id.unwrap_or("-"),
        cause = %cause,
        "request failed"
    );
}

/// See [`bad_request_handler`]; `cx` adds the body, schema hints and request id.
pub(crate) fn error_response(err: poem::Error, cx: &ErrorContext<'_>) -> Response {
    let status = err.status();
    if let Some(api) = err.downcast_ref::<ApiError>() {
        if api.status.is_server_error() {
            log_5xx(
                api.status,
                &api.cause().unwrap_or(&api.message),
                cx.request_id,
            );
        }
        return api.to_response();
    }
    let mapped = if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        Some(payload_error(&e.reason, cx))
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        Some(ApiError::invalid_input(
            e.name,
            format!("Invalid value for parameter '{}'", e.name),
        ))
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        Some(ApiError::invalid_input(
            e.name,
            format!("Invalid value for path parameter '{}'", e.name),
        ))
    } else if err.is::<ParseMultipartError>() {
        Some(ApiError::bad_request("Invalid multipart body"))
    } else if err.is::<ContentTypeError>() {
        Some(ApiError::bad_request(
            "Unsupported or missing Content-Type (expected application/json)",
        ))
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        Some(ApiError::payload_too_large())
    } else if err.is::<NotFoundError>() {
        Some(ApiError::not_found("Not found"))
    } else if err.is::<MethodNotAllowedError>() {
        Some(by_status(StatusCode::METHOD_NOT_ALLOWED))
    } else {
        None
    };
    if let Some(api) = mapped {
        return api.to_response();
    }
    if status.is_server_error() {
        log_5xx(status, &err, cx.request_id);
    }
    if err.is_from_response() {
        // Built by the service on purpose (e.g. a poem-openapi error response variant).
        return err.into_response();
    }
    let resp = err.into_response();
    if is_json(&resp) {
        // A service error type that renders its own envelope.
        return resp;
    }
    by_status(status).to_response()
}
