#!/usr/bin/env bash
# Browser test of the docs page (issue 5): headless Chromium loads /docs from the running service
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

BIN="${1:-${BIN:-target/debug/event-manager}}"
SCREENSHOT="${SCREENSHOT:-target/browser-docs/docs.png}"
CHROMIUM="${CHROMIUM:-}"

find_chromium() {
  local candidate
  for candidate in "$CHROMIUM" chromium chromium-browser; do
    if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! CHROMIUM="$(find_chromium)"; then
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: FAILED: chromium is not installed, and installing it needs root and apt-get" \
      "(run: sudo apt-get update && sudo apt-get install -y chromium)" >&2
    exit 1
  fi
  echo "browser: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq chromium; } >/tmp/browser-docs-apt.log 2>&1; then
    tail -n 20 /tmp/browser-docs-apt.log >&2
    echo "browser: FAILED: apt-get install chromium failed (log above)" >&2
    exit 1
  fi
  CHROMIUM="$(find_chromium)" || { echo "browser: FAILED: chromium still not found" >&2; exit 1; }
fi

trap serve_cleanup EXIT
trap 'exit 130' INT TERM
serve_start "$BIN" || { echo "browser: FAILED: the service did not start" >&2; exit 1; }

mkdir -p "$(dirname "$SCREENSHOT")"
if ! python3 scripts/lib/browser_docs.py --chromium "$CHROMIUM" --base-url "$SERVE_URL" \
  --screenshot "$SCREENSHOT"; then
  serve_log_tail
  exit 1
fi
