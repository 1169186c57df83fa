//! The audit service's API and pipeline in-process against the real Postgres, Redis and NATS.

mod audit_log;
mod chain;
mod helpers;
mod outage;
mod pg_outage;
mod pipeline;
mod retention;
