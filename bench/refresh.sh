#!/usr/bin/env bash
# Session service load benchmark against a durable Postgres (fsync and synchronous_commit at
# their defaults) with pg_stat_statements loaded, on ports that do not collide with the dev
# services. Prints refresh rotations/s and latency at 32 concurrent chains, statements per
# rotation, /auth/validate and GET /auth/sessions requests/s, and the logout-all propagation
# delay to a second replica.
#
#   bench/refresh.sh            # CHAINS=32 SECS=20 PROPAGATION_ROUNDS=100 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh

export PG_PORT=${BENCH_PG_PORT:-55532} REDIS_PORT=${BENCH_REDIS_PORT:-56479}
export NATS_PORT=${BENCH_NATS_PORT:-54322} NATS_MON_PORT=${BENCH_NATS_MON_PORT:-58322}
dir=${BENCH_DIR:-/tmp/auth-bench-session}
target=${CARGO_TARGET_DIR:-target}

cargo build --release -q -p session --example refresh_load
deps_start "$dir" 1
trap 'deps_stop "$dir"' EXIT
pgdata=$(cat "$dir/pgdata.path")
psql -q "postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
  -c "alter system set shared_preload_libraries = 'pg_stat_statements'"
runuser -u postgres -- "$(deps_pgbin)/pg_ctl" -D "$pgdata" -w restart -m fast >/dev/null
db="bench_$(date +%s)"
psql -q "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -c "create database $db"
psql -q "postgres://postgres@127.0.0.1:$PG_PORT/$db" -c "create extension pg_stat_statements"

DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$db" \
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" NATS_URL="nats://127.0.0.1:$NATS_PORT" \
  "$target/release/examples/refresh_load"
