//! The authz service's API in-process against the real Postgres, Redis and NATS.

mod apps;
mod helpers;
mod m2m;
mod roles;
