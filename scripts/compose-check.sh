#!/usr/bin/env bash
# Checks docker-compose.yml without a Docker engine: `docker compose config` when the Compose
# plugin is there, else Debian's docker-compose (installed when missing; needs root and apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then
  exec docker compose config -q
fi
if ! command -v docker-compose >/dev/null; then
  echo "compose-check: installing Debian's docker-compose" >&2
  apt-get install -y -q docker-compose >/tmp/compose-apt.log 2>&1 ||
    { echo "compose-check: FAILED: apt-get install docker-compose (see /tmp/compose-apt.log)" >&2; exit 1; }
fi
exec docker-compose config -q
