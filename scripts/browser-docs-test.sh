#!/usr/bin/env bash
# Browser test of the docs page: headless Chromium loads /docs from the running service
# and checks that Swagger UI rendered every operation of the OpenAPI document (the invitation routes
# `send-invitations` and `sended-invitations` among them) with nothing fetched from anywhere but
# the service, and that a screenshot of it is not blank.
#
#   scripts/browser-docs-test.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Installs Debian's `chromium` when missing (needs root and apt-get). Starts the binary on a free
# 127.0.0.1 port with a fresh SQLite file, and stops it on exit. The driver (scripts/lib/
# browser_docs.py) uses only Python's standard library and speaks the DevTools protocol.
# The screenshot is kept at $SCREENSHOT (default target/browser-docs/docs.png) for a human look.
# Prints one line, `browser: /docs rendered N operations, screenshot K KiB ...`; exits 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
# shellcheck source=scripts/lib/chromium.sh
source scripts/lib/chromium.sh

BIN="${1:-${BIN:-target/debug/event-manager}}"
SCREENSHOT="${SCREENSHOT:-target/browser-docs/docs.png}"
CHROMIUM="${CHROMIUM:-}"

chromium_ensure /tmp/browser-docs-apt.log || exit 1

trap serve_cleanup EXIT
trap 'exit 130' INT TERM
serve_start "$BIN" || { echo "browser: FAILED: the service did not start" >&2; exit 1; }

mkdir -p "$(dirname "$SCREENSHOT")"
if ! python3 scripts/lib/browser_docs.py --chromium "$CHROMIUM" --base-url "$SERVE_URL" \
  --screenshot "$SCREENSHOT"; then
  serve_log_tail
  exit 1
fi
