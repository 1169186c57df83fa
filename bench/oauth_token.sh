#!/usr/bin/env bash
# POST /oauth/token (client_credentials, form body, keep-alive) load benchmark of the authz
# service alone, on loopback, against throw-away dependencies with a durable Postgres (fsync and
# synchronous_commit at their defaults) on ports that do not collide with the dev services or
# the other benchmarks. Registers one m2m client through the admin API, then drives the grant
# with wrk pinned to CPU 1 (`taskset -c $WRK_CPU`) at 64 and at 8 connections, RUNS times each,
# and prints requests/s, latency percentiles, server CPU per grant and the load average of every
# run, the median run (by grants/s), and peak RSS (from /proc).
#
#   bench/oauth_token.sh        # SECS=15 THREADS=1 CONNS="64 8" RUNS=3 WRK_CPU=1 by default
#
# The repeat grants of one client are served from authz's in-process client cache (no database
# round trip; docs/DECISIONS.md "m2m client cache"), as in production: a client fetching a token
# a second time within 5 s of its last grant pays no Postgres read.
#
# Benchmark-only setting: the per-IP rate limiter (contract §8) still counts every request in
# Redis, but RATE_LIMIT_REQUESTS is raised to 1,000,000,000 per minute because all load comes
# from 127.0.0.1 (wrk cannot bind several source addresses); the limiter's cost is measured, its
# threshold is not.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh

export PG_PORT=${BENCH_PG_PORT:-47432} REDIS_PORT=${BENCH_REDIS_PORT:-47379}
export NATS_PORT=${BENCH_NATS_PORT:-47222} NATS_MON_PORT=${BENCH_NATS_MON_PORT:-47822}
port=${BENCH_AUTHZ_PORT:-47083}
dir=${BENCH_DIR:-/tmp/auth-bench-oauth}
target=${CARGO_TARGET_DIR:-target}
secs=${SECS:-15} threads=${THREADS:-1} conns=${CONNS:-64 8} runs=${RUNS:-3} wrk_cpu=${WRK_CPU:-1}
rate_limit=1000000000

log() { printf '[oauth-bench] %s\n' "$*" >&2; }

cargo build --release -q -p authz
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  deps_stop "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
deps_start "$dir" 1

db="bench_oauth_$(date +%s)"
psql -q "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -c "create database $db"
rand() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48; }
access_secret=$(rand)

DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$db" \
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" NATS_URL="nats://127.0.0.1:$NATS_PORT" \
JWT_ACCESS_SECRET=$access_secret JWT_REFRESH_SECRET=$(rand) API_PREFIX=/api/v1 \
AUTHZ_PORT=$port SERVER_HOST=127.0.0.1 RATE_LIMIT_REQUESTS=$rate_limit \
  "$target/release/authz" >"$dir/authz.log" 2>&1 &
server_pid=$!
deps_wait_for 60 curl -sf "http://127.0.0.1:$port/health" \
  || { log "authz did not start"; tail -n 30 "$dir/authz.log"; exit 1; }

# A system_admin access token signed with this run's secret (HS256, contract §3.1).
admin_token=$(SECRET=$access_secret python3 - <<'PY'
import base64, hashlib, hmac, json, os, time, uuid
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now, uid = int(time.time()), str(uuid.uuid4())
claims = {"iss": "ven-auth", "sub": uid, "aud": ["ven-platform"], "exp": now + 3600,
          "nbf": now, "iat": now, "jti": str(uuid.uuid4()), "uid": uid,
          "email": "bench@example.com", "first_name": "Bench", "last_name": "Admin",
          "roles": ["system_admin"], "permissions": [], "token_type": "access",
          "session_id": str(uuid.uuid4()), "auth_provider": "local"}
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps(claims).encode())
sig = hmac.new(os.environ["SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
print(f"{head}.{body}.{b64(sig)}")
PY
)

client_id="bench-client-$(date +%s)"
created=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/admin/m2m-clients" \
  -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"$client_id\",\"name\":\"Bench client\",\"scopes\":[\"read\",\"write\"]}") \
  || { log "m2m client registration failed"; tail -n 30 "$dir/authz.log"; exit 1; }
client_secret=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')

body="grant_type=client_credentials&client_id=$client_id&client_secret=$client_secret&scope=read"
url="http://127.0.0.1:$port/api/v1/oauth/token"
# One grant by hand: it must succeed before any load is measured.
curl -sf -X POST "$url" -H 'Content-Type: application/x-www-form-urlencoded' -d "$body" \
  | grep -q '"access_token"' || { log "a single grant failed"; exit 1; }

cat >"$dir/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
hz=$(getconf CLK_TCK)

echo "# POST /api/v1/oauth/token client_credentials, keep-alive, taskset -c $wrk_cpu wrk -t$threads -d${secs}s, $runs runs"
echo "# machine: $(nproc) cores, $(uname -r)"
echo "# benchmark-only: RATE_LIMIT_REQUESTS=$rate_limit (the limiter still runs; one source IP)"
for c in $conns; do
  # warm-up, not measured
  taskset -c "$wrk_cpu" wrk -t"$threads" -c"$c" -d3s -s "$dir/token.lua" "$url" >/dev/null
  results=()
  for r in $(seq "$runs"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(cpu_ticks)
    out=$(taskset -c "$wrk_cpu" wrk -t"$threads" -c"$c" -d"${secs}s" --latency -s "$dir/token.lua" "$url")
    after=$(cpu_ticks)
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    sockerr=$(grep -o 'Socket errors:.*' <<<"$out" || true)
    pct() { awk -v p="$1" '$1 == p {print $2}' <<<"$out"; }
    cpu_ms=$(( (after - before) * 1000 / hz ))
    line="connections=$c run=$r grants/s=$rps p50=$(pct 50%) p90=$(pct 90%) p99=$(pct 99%) requests=$total non2xx=${errors:-0} ${sockerr} server_cpu_ms=$cpu_ms cpu_us_per_grant=$(awk -v m="$cpu_ms" -v n="$total" 'BEGIN{printf "%.1f", m*1000/n}') load1=$load"
    echo "$line"
    results+=("$rps $line")
  done
  median=$(printf '%s\n' "${results[@]}" | sort -n -k1,1 | awk -v n="${#results[@]}" 'NR == int((n + 1) / 2) {$1 = ""; print}')
  echo "median:$median"
done
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$server_pid/status")"
