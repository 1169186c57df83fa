//! Integration tests for auth-bus against the real Postgres and NATS
//! (`DATABASE_URL`, `NATS_URL`). Each test owns a fresh database and a random
//! subject/stream/bucket prefix, so tests run in parallel.

mod helpers;
mod outbox;
mod relay;
mod token_version;
mod topology;
