#!/usr/bin/env bash
# The service scaled out on real infrastructure (docs/operations.md, "Running several processes"
# and "Behind a pooler"), all on loopback from Debian's packages: a private PostgreSQL primary,
# PgBouncer in transaction pooling mode in front of it, three service processes reaching the
# database through PgBouncer (prepared statements off, `LISTEN` on a direct connection), and
# HAProxy in front of them. scripts/lib/scale_test.py then checks through HAProxy that the
# invariants, limits, streams and the feed hold (see its docstring), and everything started is
# stopped on exit.
#
#   scripts/scale-test.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Installs `pgbouncer` and `haproxy` when missing (needs root and apt-get). PostgreSQL and
# PgBouncer refuse to run as root: they run as the `postgres` user. KEEP_TMP=1 keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${1:-${BIN:-target/debug/event-manager}}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

fail() {
  echo "scale: FAILED: $*" >&2
  exit 1
}

[[ -x "$BIN" ]] || fail "'$BIN' not found (build it: cargo build -p app)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
[[ -x "$PG_BIN/initdb" ]] || fail "no PostgreSQL server binaries (initdb) under /usr/lib/postgresql"
if ! command -v pgbouncer >/dev/null || ! command -v haproxy >/dev/null; then
  echo "scale: installing Debian's pgbouncer and haproxy" >&2
  apt-get install -y -q pgbouncer haproxy >/tmp/scale-apt.log 2>&1 ||
    fail "apt-get install pgbouncer haproxy failed (see /tmp/scale-apt.log)"
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

DIR="$(mktemp -d "${TMPDIR:-/tmp}/event-manager-scale.XXXXXX")"
chmod 755 "$DIR"
PIDS=()
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -f "$DIR/pgbouncer.pid" ]]; then kill -TERM "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true; fi
  if [[ -d "$DIR/standby" ]]; then as_postgres "$PG_BIN/pg_ctl" -D "$DIR/standby" -m immediate -w stop >/dev/null 2>&1 || true; fi
  if [[ -d "$DIR/primary" ]]; then as_postgres "$PG_BIN/pg_ctl" -D "$DIR/primary" -m fast -w stop >/dev/null 2>&1 || true; fi
  if [[ -z "${KEEP_TMP:-}" ]]; then rm -rf "$DIR"; else echo "scale: kept $DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
  local log
  for log in "$DIR"/*.log; do
    echo "--- $(basename "$log") ---" >&2
    tail -n 25 "$log" >&2
  done
}

# The primary: a private cluster on its own port, its socket in $DIR.
PG_PORT="$(free_port)"
chown postgres:postgres "$DIR"
as_postgres "$PG_BIN/initdb" -D "$DIR/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$DIR/initdb.log" 2>&1 || { show_logs; fail "initdb"; }
cat >>"$DIR/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$DIR'
max_connections = 100
fsync = off
full_page_writes = off
EOF
as_postgres "$PG_BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/postgres.log" -w start >/dev/null ||
  { show_logs; fail "the primary did not start"; }
as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres app

# A streaming hot standby of it, for list reads (DATABASE_READ_URL).
STANDBY_PORT="$(free_port)"
as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$DIR/standby" -R --checkpoint=fast \
  -X stream >"$DIR/basebackup.log" 2>&1 || { show_logs; fail "pg_basebackup"; }
cat >>"$DIR/standby/postgresql.conf" <<EOF
port = $STANDBY_PORT
hot_standby_feedback = on
# Each commit applied 5 ms after it was made: a standby trailing a busy primary, as over a
# network (scale_test.py's list reads wait for it).
recovery_min_apply_delay = 5
EOF
standby_ctl() { as_postgres "$PG_BIN/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w "$@" >/dev/null; }
standby_ctl start || { show_logs; fail "the standby did not start"; }

# PgBouncer in transaction mode. Each server connection gets the service's bounds when it opens
# (connect_query): the pooler keeps them, whichever client the connection serves.
BOUNCER_PORT="$(free_port)"
cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
app = host=127.0.0.1 port=$PG_PORT dbname=app user=postgres connect_query='SET statement_timeout = 5000; SET lock_timeout = 3000; SET idle_in_transaction_session_timeout = 10000'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
echo '"postgres" ""' >"$DIR/userlist.txt"
chown postgres:postgres "$DIR/pgbouncer.ini" "$DIR/userlist.txt"
as_postgres pgbouncer -d "$DIR/pgbouncer.ini" || { show_logs; fail "pgbouncer did not start"; }

# Three service processes through PgBouncer; LISTEN on a direct connection.
APP_PORTS=()
METRICS_PORTS=()
for n in 1 2 3; do
  port="$(free_port)"
  metrics="$(free_port)"
  APP_PORTS+=("$port")
  METRICS_PORTS+=("$metrics")
  mkdir -p "$DIR/app$n"
  (
    cd "$DIR/app$n"
    exec env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
      DATABASE_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/app" \
      DATABASE_PREPARED_STATEMENTS="${SCALE_PREPARED_STATEMENTS:-false}" \
      DATABASE_LISTEN_URL="postgres://postgres@127.0.0.1:$PG_PORT/app" \
      DATABASE_READ_URL="postgres://postgres@127.0.0.1:$STANDBY_PORT/app" \
      DATABASE_POOL_SIZE=8 \
      BIND_ADDR="127.0.0.1:$port" \
      METRICS_BIND_ADDR="127.0.0.1:$metrics" \
      HTTP_WORKERS=2 \
      TRUSTED_PROXIES=127.0.0.1 \
      LOGIN_FAILURES_PER_ACCOUNT_ADDRESS=5 \
      CONTACT_VERIFICATION=off \
      REGISTRATIONS_PER_ADDRESS=0 \
      SEND_INVITATIONS_PER_USER=0 \
      SEND_RECIPIENTS_PER_DAY=0 SEND_RECIPIENTS_PER_DAY_ESTABLISHED=0 \
      MESSAGES_PER_RECIPIENT_PER_DAY=0 \
      EVENTS_PER_USER_PER_DAY=0 \
      RUST_LOG=warn LOG_FORMAT=json \
      OUTBOX_DIR="$DIR/outbox" \
      PUBLIC_URL="http://127.0.0.1:$port" \
      "$BIN"
  ) >"$DIR/app$n.log" 2>&1 &
  PIDS+=("$!")
done

# HAProxy: round robin, the client's own X-Forwarded-For dropped before it adds the real one (else
# the per-address limits could be forged), long timeouts for live streams.
HAPROXY_PORT="$(free_port)"
{
  cat <<EOF
global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  option http-server-close
frontend api
  bind 127.0.0.1:$HAPROXY_PORT
  http-request del-header X-Forwarded-For
  option forwardfor
  default_backend app
backend app
  balance roundrobin
  option httpchk GET /health/ready
EOF
  for n in 1 2 3; do echo "  server app$n 127.0.0.1:${APP_PORTS[$((n - 1))]} check inter 500ms"; done
} >"$DIR/haproxy.cfg"
haproxy -f "$DIR/haproxy.cfg" -db >"$DIR/haproxy.log" 2>&1 &
PIDS+=("$!")

for port in "${APP_PORTS[@]}" "$HAPROXY_PORT"; do
  ready=""
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.2
  done
  [[ -n "$ready" ]] || { show_logs; fail "127.0.0.1:$port did not become ready"; }
done

# The seed's scenario as a client writes it (clients/typescript/examples/seed.ts), through HAProxy;
# when the client's packages are installed (scripts/typescript-client-test.sh, which `make test`
# runs first, installs them).
if [[ -d clients/typescript/node_modules ]]; then
  if ! (cd clients/typescript && BASE_URL="http://127.0.0.1:$HAPROXY_PORT" npx --no-install tsx examples/seed.ts \
    >"$DIR/seed.log" 2>&1); then
    cat "$DIR/seed.log" >&2
    show_logs
    fail "the TypeScript client's seed scenario through HAProxy"
  fi
  echo "scale: the TypeScript client's seed scenario passed through HAProxy"
else
  echo "scale: clients/typescript/node_modules missing: the TypeScript seed scenario is skipped" >&2
fi
if ! python3 scripts/lib/scale_test.py \
  --lb "http://127.0.0.1:$HAPROXY_PORT" \
  --apps "$(printf 'http://127.0.0.1:%s,' "${APP_PORTS[@]}")" \
  --metrics "$(printf 'http://127.0.0.1:%s/metrics,' "${METRICS_PORTS[@]}")" \
  --outbox "$DIR/outbox" \
  --primary "postgres://postgres@127.0.0.1:$PG_PORT/app" \
  --standby "postgres://postgres@127.0.0.1:$STANDBY_PORT/app" \
  --standby-stop "setpriv --reuid=postgres --regid=postgres --init-groups -- $PG_BIN/pg_ctl -D $DIR/standby -m fast -w stop" \
  --standby-start "setpriv --reuid=postgres --regid=postgres --init-groups -- $PG_BIN/pg_ctl -D $DIR/standby -l $DIR/standby.log -w start"; then
  show_logs
  exit 1
fi
# Errors in the service's logs fail the run, but for the pool's own report of the connections the
# standby's stop cut (the outage is part of the checks).
errors="$(grep -h '"level":"ERROR"' "$DIR"/app*.log | grep -v '"target":"r2d2"' | head -n 5 || true)"
if [[ -n "$errors" ]]; then
  echo "$errors" >&2
  fail "a service process logged errors"
fi
