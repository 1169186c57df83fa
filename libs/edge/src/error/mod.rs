//! Errors as clients see them: codes, the envelope, and the mapping of framework errors.

mod api_error;
mod code;
mod map;

pub use api_error::{ApiError, GENERIC_5XX_MESSAGE, JSON_CONTENT_TYPE};
pub use code::ErrorCode;
pub use map::bad_request_handler;
pub(crate) use map::{ErrorContext, error_response};
