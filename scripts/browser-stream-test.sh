#!/usr/bin/env bash
# Browser test of the live stream: a real `EventSource` in headless Chromium, on a page
# of the service's own origin, opens GET /api/v1/me/stream?ticket=… and must receive the
# `invitation.created` change the server pushes when another user invites it; the used ticket must
# then be refused (401).
#
#   scripts/browser-stream-test.sh [BIN]    BIN (or env BIN) defaults to target/debug/event-manager
#
# Installs Debian's `chromium` when missing (needs root and apt-get; scripts/lib/chromium.sh).
# Starts the binary on a free 127.0.0.1 port with a fresh SQLite file, and stops it on exit. The
# driver (scripts/lib/browser_stream.py) uses only Python's standard library and speaks the
# DevTools protocol through scripts/lib/cdp.py.
# Prints one line, `browser: EventSource received invitation.created (change N) in M ms ...`;
# exits 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
# shellcheck source=scripts/lib/chromium.sh
source scripts/lib/chromium.sh

BIN="${1:-${BIN:-target/debug/event-manager}}"
CHROMIUM="${CHROMIUM:-}"

chromium_ensure /tmp/browser-stream-apt.log || exit 1

trap serve_cleanup EXIT
trap 'exit 130' INT TERM
# Contacts count as proven at once: this test is about the stream, and the invitee must get the
# invitation's change as soon as it is sent (proofs have tests of their own).
serve_start "$BIN" CONTACT_VERIFICATION=off ||
  { echo "browser: FAILED: the service did not start" >&2; exit 1; }

if ! python3 scripts/lib/browser_stream.py --chromium "$CHROMIUM" --base-url "$SERVE_URL"; then
  serve_log_tail
  exit 1
fi
