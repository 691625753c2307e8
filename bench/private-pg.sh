#!/usr/bin/env bash
# A private PostgreSQL cluster for `make bench` (docs/performance.md, "Latest report"): the
# machine cluster's settings (shared_buffers 128 MB, autovacuum off, max_wal_size 1 GB, fsync on,
# UTC), but max_connections 200, so that pgbench at 128 clients fits beside the service's pools.
#
#   bench/private-pg.sh start   # then: BENCH_PG=postgres://postgres@127.0.0.1:5433 make bench
#   bench/private-pg.sh stop    # stops it and deletes its data directory
#
# BENCH_PG_DIR (default /tmp/em-bench-pg) and BENCH_PG_PORT (5433) move it. Run as root or as
# the postgres user; the cluster itself runs as postgres (initdb refuses root).
set -euo pipefail
DIR="${BENCH_PG_DIR:-/tmp/em-bench-pg}"
PORT="${BENCH_PG_PORT:-5433}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
      as_postgres "$BIN/initdb" -D "$DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$DIR/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
max_connections = 200
shared_buffers = 128MB
autovacuum = off
max_wal_size = 1GB
min_wal_size = 80MB
fsync = on
timezone = 'UTC'
CONF
    fi
    as_postgres "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w start >/dev/null
    echo "private PostgreSQL on 127.0.0.1:$PORT ($DIR): BENCH_PG=postgres://postgres@127.0.0.1:$PORT"
    ;;
  stop)
    if [ -f "$DIR/postmaster.pid" ]; then
      as_postgres "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null
    fi
    rm -rf "$DIR"
    echo "private PostgreSQL on port $PORT stopped, $DIR removed"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
