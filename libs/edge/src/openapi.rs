//! poem-openapi schema types of the error envelope, for services' response declarations.

use poem_openapi::Object;
use serde_json::Value;

use crate::error::ApiError;

/// The error envelope: `{"error": {...}}`.
#[derive(Debug, Clone, Object)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorPayload,
}

/// Code, message and details of an error.
#[derive(Debug, Clone, Object)]
pub struct ErrorPayload {
    /// UPPER_SNAKE error code (contract §4.2).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Extra data (`{"field": ...}` for INVALID_INPUT), null when empty.
    pub details: Option<Value>,
}

impl From<&ApiError> for ErrorEnvelope {
    fn from(e: &ApiError) -> Self {
        Self {
            error: ErrorPayload {
                code: e.code.as_str().to_owned(),
                message: e.public_message().to_owned(),
                details: e.details.clone(),
            },
        }
    }
}
