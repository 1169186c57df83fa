//! [`ApiError`]: the contract's error envelope (§4.1).

use std::fmt;

use poem::{
    IntoResponse, Response,
    error::ResponseError,
    http::{StatusCode, header},
};
use serde_json::{Value, json};

use super::code::ErrorCode;

/// The message every 5xx shows, whatever happened (§4.1).
pub const GENERIC_5XX_MESSAGE: &str = "An unexpected error occurred. Please try again.";

/// `Content-Type` of every envelope (JSON with charset, API-04).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// An error as the client sees it: `{"error":{"code","message","details"}}`.
///
/// A 5xx always renders [`GENERIC_5XX_MESSAGE`]; the real cause stays in [`ApiError::cause`]
/// and is logged with the request id by the edge's error layer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Catalogue code.
    pub code: ErrorCode,
    /// Human-readable text (replaced by the generic text on 5xx).
    pub message: String,
    /// Extra data, rendered as `null` when absent.
    pub details: Option<Value>,
    cause: Option<String>,
}

impl ApiError {
    /// An error with the code's default status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.default_status(),
            code,
            message: message.into(),
            details: None,
            cause: None,
        }
    }

    /// Replace the status (e.g. 403 `VALIDATION_ERROR` "app is not active").
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Attach `details`.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Attach an internal cause: logged, never shown.
    #[must_use]
    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(format!("{cause:#}"));
        self
    }

    /// 400 `INVALID_INPUT` with `details: {"field": field}`.
    pub fn invalid_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message).with_details(json!({ "field": field.into() }))
    }

    /// 400 `INVALID_INPUT` without a field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// 400 `VALIDATION_ERROR`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// 413 `VALIDATION_ERROR` "Request body too large".
    pub fn payload_too_large() -> Self {
        Self::validation("Request body too large").with_status(StatusCode::PAYLOAD_TOO_LARGE)
    }

    /// 408 `VALIDATION_ERROR` "request body timed out" (the catalogue has no timeout code).
    pub fn body_timeout() -> Self {
        Self::validation("request body timed out").with_status(StatusCode::REQUEST_TIMEOUT)
    }

    /// 401 `UNAUTHORIZED`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 409 `CONFLICT`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 429 `RATE_LIMITED`.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::RateLimited, message)
    }

    /// 500 `INTERNAL_ERROR` carrying the real cause for the log.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(ErrorCode::InternalError, GENERIC_5XX_MESSAGE).with_cause(cause)
    }

    /// 503 `SERVICE_UNAVAILABLE` carrying the real cause for the log.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        Self::new(ErrorCode::ServiceUnavailable, GENERIC_5XX_MESSAGE).with_cause(cause)
    }

    /// The internal cause, if any (for logs only).
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The message the client sees.
    pub fn public_message(&self) -> &str {
        if self.status.is_server_error() {
            GENERIC_5XX_MESSAGE
        } else {
            &self.message
        }
    }

    /// The envelope as JSON.
    pub fn body(&self) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.public_message(),
                "details": self.details.clone().unwrap_or(Value::Null),
            }
        })
    }

    /// The response: status, JSON content type, envelope.
    pub fn to_response(&self) -> Response {
        Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, JSON_CONTENT_TYPE)
            .body(self.body().to_string())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )?;
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        self.to_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

impl From<ApiError> for Response {
    fn from(e: ApiError) -> Self {
        e.to_response()
    }
}
