# Sourced by the scripts in scripts/: start the service binary on a free loopback port with a fresh
# SQLite file, wait until it is ready, and stop it (and remove its files) when the script exits.
#
#   serve_start BIN [VAR=value...]   sets SERVE_PORT, SERVE_URL, SERVE_DIR, SERVE_PID
#
# Only 127.0.0.1 is used. The server's output goes to $SERVE_DIR/server.log, printed on failure;
# emails and texts (no SMTP_URL or SMS_URL) are written to $SERVE_DIR/outbox.

SERVE_PID=""
SERVE_DIR=""

serve_cleanup() {
  if [[ -n "$SERVE_PID" ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  SERVE_PID=""
  if [[ -n "$SERVE_DIR" && -d "$SERVE_DIR" && -z "${KEEP_TMP:-}" ]]; then
    rm -rf "$SERVE_DIR"
  fi
}

serve_log_tail() {
  if [[ -n "$SERVE_DIR" && -f "$SERVE_DIR/server.log" ]]; then
    echo "--- last lines of the server log ---" >&2
    tail -n 40 "$SERVE_DIR/server.log" >&2
  fi
}

# A port nobody listens on right now (the kernel's choice, released before the server binds it).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

serve_start() {
  local bin="$1"
  shift
  if [[ ! -x "$bin" ]]; then
    echo "error: service binary '$bin' not found or not executable (build it: cargo build -p app)" >&2
    return 1
  fi
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
  SERVE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/event-manager.XXXXXX")"
  SERVE_PORT="$(free_port)"
  SERVE_URL="http://127.0.0.1:$SERVE_PORT"
  # `env -i` keeps a developer's .env or shell exports (e.g. a PostgreSQL DATABASE_URL) out; the
  # binary reads `.env` from its working directory, so it runs from the temp directory.
  (
    cd "$SERVE_DIR"
    exec env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
      DATABASE_URL="$SERVE_DIR/event-manager.sqlite3" \
      BIND_ADDR="127.0.0.1:$SERVE_PORT" \
      HTTP_WORKERS="${HTTP_WORKERS:-2}" \
      RUST_LOG="${RUST_LOG:-warn}" \
      LOG_FORMAT=json \
      OUTBOX_DIR="$SERVE_DIR/outbox" \
      PUBLIC_URL="$SERVE_URL" \
      "$@" \
      "$bin" serve
  ) >"$SERVE_DIR/server.log" 2>&1 &
  SERVE_PID=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "$SERVE_URL/health/ready" 2>/dev/null; do
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
      echo "error: the service exited before becoming ready" >&2
      serve_log_tail
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "error: the service was not ready on $SERVE_URL/health/ready within 60 s" >&2
      serve_log_tail
      return 1
    fi
    sleep 0.2
  done
}
