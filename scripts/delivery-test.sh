#!/usr/bin/env bash
# Webhooks and email end to end: the binary against real peers on loopback, a webhook
# receiver that verifies every signature with the Standard Webhooks reference library and an
# aiosmtpd mail server, on SQLite and (with TEST_DATABASE_URL) PostgreSQL, two processes included.
#
#   scripts/delivery-test.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Environment: VENV (default target/venv-delivery, created and reused), TEST_DATABASE_URL (a
# PostgreSQL server to create databases on; with CI set, its cases fail rather than skip without
# it). The cases are in scripts/lib/delivery_test.py; all traffic is to 127.0.0.1 (PyPI aside, for
# the first install).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${1:-${BIN:-target/debug/event-manager}}"
VENV="${VENV:-target/venv-delivery}"
REQUIREMENTS=(standardwebhooks==1.3.0 aiosmtpd==1.4.6 pytest==9.2.0)

if [[ ! -x "$BIN" ]]; then
  echo "delivery-test: FAILED: '$BIN' not found (build it: cargo build -p app)" >&2
  exit 1
fi
if ! "$VENV/bin/python" -c 'import standardwebhooks, aiosmtpd, pytest' 2>/dev/null ||
  ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qx "${REQUIREMENTS[0]}"; then
  echo "delivery-test: installing ${REQUIREMENTS[*]} into $VENV" >&2
  python3 -m venv "$VENV" ||
    { echo "delivery-test: FAILED: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" ||
    { echo "delivery-test: FAILED: pip install failed" >&2; exit 1; }
fi

export BIN
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rA --durations=5 \
  scripts/lib/delivery_test.py "${@:2}"
