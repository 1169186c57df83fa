//! Integration tests of `auth-tokens` against the Postgres named by `DATABASE_URL`
//! (a fresh database per test from `testkit::TestDb`).

mod adopted;
mod apps;
mod assembly;
mod fixtures;
mod issuance;
mod rotation;
