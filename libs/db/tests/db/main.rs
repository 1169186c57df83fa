//! Integration tests of the migration set, the `auth-db` helpers and the testkit database
//! fixture, against the Postgres named by `DATABASE_URL`.

mod adopt;
mod catalog;
mod constraints;
mod fixture;
mod migrations;
mod pool;
mod seeds;
