# Sourced by the browser tests in scripts/: find Chromium, or install Debian's `chromium` when it
# is missing (needs root and apt-get).
#
#   chromium_ensure [APT_LOG]   sets CHROMIUM to the browser's path, or prints why not and returns 1
#
# A non-empty $CHROMIUM on entry (a command name or path) is tried first. apt-get's output goes to
# APT_LOG (default /tmp/browser-chromium-apt.log) and its tail is printed when the install fails.

find_chromium() {
  local candidate
  for candidate in "${CHROMIUM:-}" chromium chromium-browser; do
    if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

chromium_ensure() {
  local apt_log="${1:-/tmp/browser-chromium-apt.log}" found
  if found="$(find_chromium)"; then
    CHROMIUM="$found"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: FAILED: chromium is not installed, and installing it needs root and apt-get" \
      "(run: sudo apt-get update && sudo apt-get install -y chromium)" >&2
    return 1
  fi
  echo "browser: installing Debian's chromium" >&2
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    echo "browser: FAILED: apt-get install chromium failed (log above)" >&2
    return 1
  fi
  found="$(find_chromium)" || { echo "browser: FAILED: chromium still not found" >&2; return 1; }
  CHROMIUM="$found"
}
