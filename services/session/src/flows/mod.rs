//! The use cases, in step order: refresh rotation (§5.2), logout and logout-all (§5.3),
//! session termination. Handlers parse, call one flow, and shape the reply.

pub mod common;
pub mod logout;
pub mod refresh;
pub mod revoke_all;
pub mod sessions;
