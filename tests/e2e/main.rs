//! End-to-end tests: the real service binaries behind the real nginx ingress, on the real
//! Postgres, Redis and NATS started by `scripts/test`.

mod config;
mod ingress;
mod outage;
mod revocation;
mod sessions;
mod support;
