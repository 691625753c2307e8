#!/usr/bin/env bash
# The TypeScript client (clients/typescript/) against the running binary, on a fresh SQLite file.
#
#   scripts/typescript-client-test.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Steps: install Node.js and npm from Debian when they are missing; `npm ci` the pinned packages
# into clients/typescript/node_modules when it is missing or older than package-lock.json; check
# that src/schema.d.ts is what openapi-typescript makes of docs/openapi.json; `redocly lint` the
# document (0 errors); type-check the client and the example with `tsc --strict`; start the binary
# on a free 127.0.0.1 port, check that it serves docs/openapi.json as committed, and run
# examples/seed.ts against it; stop the service. Prints `typescript client: ... passed` and exits
# non-zero at the first failure. All traffic is to 127.0.0.1 (the npm registry and Debian aside,
# for the first install).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh

BIN="${1:-${BIN:-target/debug/event-manager}}"
CLIENT=clients/typescript
STARTED=$SECONDS

fail() {
  echo "typescript client: FAILED: $*" >&2
  exit 1
}

# Redocly's CLI would otherwise report usage to its vendor and look for a newer version of itself.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# --- Node.js, npm and the pinned packages ---------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "typescript client: installing nodejs and npm (Debian)" >&2
  [[ "$(id -u)" -eq 0 ]] || fail "node and npm are missing (Debian: apt-get install nodejs npm)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
    fail "apt-get install nodejs npm failed"
fi
if [[ ! -f "$CLIENT/node_modules/.package-lock.json" ||
  "$CLIENT/package-lock.json" -nt "$CLIENT/node_modules/.package-lock.json" ]]; then
  echo "typescript client: npm ci in $CLIENT" >&2
  (cd "$CLIENT" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/typescript-client.XXXXXX")"
trap 'serve_cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# --- the generated types match the document -------------------------------------------------------
(cd "$CLIENT" && npx --no-install openapi-typescript ../../docs/openapi.json \
  --output "$WORK/schema.d.ts") >"$WORK/generate.log" 2>&1 ||
  { cat "$WORK/generate.log" >&2; fail "openapi-typescript could not read docs/openapi.json"; }
if ! diff -u "$CLIENT/src/schema.d.ts" "$WORK/schema.d.ts" >"$WORK/schema.diff"; then
  head -n 40 "$WORK/schema.diff" >&2
  fail "$CLIENT/src/schema.d.ts is stale: run \`make openapi\` and commit it"
fi
echo "typescript client: src/schema.d.ts matches docs/openapi.json"

# --- the document lints -----------------------------------------------------------------------
(cd "$CLIENT" && npx --no-install redocly lint --config redocly.yaml ../../docs/openapi.json \
  --format=summary) >"$WORK/lint.log" 2>&1 ||
  {
    (cd "$CLIENT" && npx --no-install redocly lint --config redocly.yaml ../../docs/openapi.json) >&2 || true
    fail "redocly lint found errors in docs/openapi.json"
  }
echo "typescript client: redocly lint: $(grep -Eo '[0-9]+ warnings?' "$WORK/lint.log" | head -n1 || echo 0 warnings), 0 errors"

# --- the client and the example type-check ------------------------------------------------------
(cd "$CLIENT" && npx --no-install tsc -p . --strict --noEmit) || fail "tsc found type errors"
echo "typescript client: tsc --strict --noEmit: no errors"

# --- the example against the binary -------------------------------------------------------------
serve_start "$BIN" || fail "the service did not start"
curl -fsS --max-time 10 "$SERVE_URL/api/v1/openapi.json" -o "$WORK/served.json" ||
  fail "GET /api/v1/openapi.json failed"
if ! python3 - "$WORK/served.json" docs/openapi.json <<'PY'; then
import json, sys
served, committed = (json.load(open(path)) for path in sys.argv[1:])
sys.exit(0 if served == committed else 1)
PY
  fail "the binary serves another document than docs/openapi.json: rebuild it, or run \`make openapi\`"
fi
if ! (cd "$CLIENT" && BASE_URL="$SERVE_URL" OUTBOX_DIR="$SERVE_DIR/outbox" npx --no-install tsx examples/seed.ts); then
  serve_log_tail
  fail "examples/seed.ts"
fi
echo "typescript client: generated types, lint, tsc and the seed example passed ($((SECONDS - STARTED)) s)"
