//! auth-server tests: the committed OpenAPI documents and ingress table match the code, and
//! the all-in-one binary serves every documented route on one port.

mod all_in_one;
mod drift;
