//! SQL as plain async functions taking a connection or transaction, one module per
//! aggregate. The refresh row reads and the rotation itself live in `auth_tokens`.

pub mod jobs;
pub mod refresh;
pub mod sessions;
pub mod tokens;
