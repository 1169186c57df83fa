//! Integration tests of the session service as a client sees it, against the real Postgres,
//! Redis and NATS named by `DATABASE_URL`, `REDIS_URL` and `NATS_URL` (a fresh database and
//! random prefixes per test). SECURITY.md ids (RT-xx, SES-xx) are in the test names.

mod concurrency;
mod faults;
mod helpers;
mod jobs;
mod logout;
mod outage;
mod refresh;
mod reuse_race;
mod session_tokens;
mod sessions;
mod validate;
