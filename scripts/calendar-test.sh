#!/usr/bin/env bash
# Calendars end to end (docs/api.md, "Calendars"): the binary's calendar files read by a real
# iCalendar parser (PyPI `icalendar`) and stored in a real CalDAV server (PyPI `radicale`, which
# refuses a file its own parser cannot read), all on 127.0.0.1.
#
#   scripts/calendar-test.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Environment: VENV (default target/venv-calendar, created and reused). The checks are in
# scripts/lib/calendar_test.py; prints one result line and exits 0, or what failed and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh

BIN="${1:-${BIN:-target/debug/event-manager}}"
VENV="${VENV:-target/venv-calendar}"
REQUIREMENTS=(icalendar==7.3.2 radicale==3.9.0)

if ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qix "${REQUIREMENTS[0]}" ||
  ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qix "${REQUIREMENTS[1]}"; then
  echo "calendar-test: installing ${REQUIREMENTS[*]} into $VENV" >&2
  python3 -m venv "$VENV" ||
    { echo "calendar-test: FAILED: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" ||
    { echo "calendar-test: FAILED: pip install failed" >&2; exit 1; }
fi

trap serve_cleanup EXIT
trap 'exit 130' INT TERM
serve_start "$BIN" CONTACT_VERIFICATION=off ||
  { echo "calendar-test: FAILED: the service did not start" >&2; exit 1; }

if ! "$VENV/bin/python" scripts/lib/calendar_test.py --base-url "$SERVE_URL" \
  --outbox "$SERVE_DIR/outbox" --radicale "$VENV/bin/radicale" --work "$SERVE_DIR"; then
  serve_log_tail
  exit 1
fi
