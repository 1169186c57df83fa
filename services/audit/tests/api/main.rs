//! The audit service's API in-process against the real Postgres, Redis and NATS.

mod audit_log;
