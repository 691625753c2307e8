#!/usr/bin/env bash
# Browser test of the RSVP page (docs/api.md, "Answering from a message"): an invitation email's
# one-click link, opened in headless Chromium at phone width (360 px), answers the invitation with
# Accept; a scanner's GETs and a POST without the page's cookie change nothing.
#
#   scripts/browser-rsvp-test.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Installs Debian's `chromium` when missing (needs root and apt-get). Starts the binary on a free
# 127.0.0.1 port with a fresh SQLite file and its emails in files, and stops it on exit. The
# screenshots are kept in $SCREENSHOT_DIR (default target/browser-rsvp) for a human look.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
# shellcheck source=scripts/lib/chromium.sh
source scripts/lib/chromium.sh

BIN="${1:-${BIN:-target/debug/event-manager}}"
SCREENSHOT_DIR="${SCREENSHOT_DIR:-target/browser-rsvp}"
CHROMIUM="${CHROMIUM:-}"

chromium_ensure /tmp/browser-rsvp-apt.log || exit 1

trap serve_cleanup EXIT
trap 'exit 130' INT TERM
# Contacts count as proven at once: the invitation goes straight to Sara (held invitations have
# tests of their own).
serve_start "$BIN" CONTACT_VERIFICATION=off ||
  { echo "browser: FAILED: the service did not start" >&2; exit 1; }

mkdir -p "$SCREENSHOT_DIR"
if ! python3 scripts/lib/browser_rsvp.py --chromium "$CHROMIUM" --base-url "$SERVE_URL" \
  --outbox "$SERVE_DIR/outbox" --screenshots "$SCREENSHOT_DIR"; then
  serve_log_tail
  exit 1
fi
