#!/usr/bin/env bash
# Contract fuzzing: schemathesis generates requests for every operation of the served
# OpenAPI document and checks each answer against it, on a fresh SQLite database.
#
#   scripts/schemathesis.sh [BIN]      BIN (or env BIN) defaults to target/debug/event-manager
#
# Environment: VENV (default target/venv-schemathesis, created and reused), MAX_EXAMPLES (default
# 50 per operation and phase), SEED (a fixed seed; random by default and printed to reproduce),
# ST_REPORT_DIR (default target/schemathesis: JUnit report of the run).
#
# Steps: create the venv and pip install the pinned schemathesis when it is missing or another
# version; start the binary on a free 127.0.0.1 port with a fresh SQLite file; register users and
# make real data (an event the caller owns, an invitation the caller received, a second token for
# logout); run schemathesis twice (below); stop the service. Prints `schemathesis: N cases, 0
# failures` and exits non-zero on any failure. All traffic is to 127.0.0.1 (PyPI aside, for the
# first install).
#
# Every check runs (`--checks all`), in every phase (examples, coverage, fuzzing, and stateful for
# the first run): the document states what the server accepts, including the Laravel reading of
# input (docs/api.md, "Conventions": an empty query parameter or `""` in an optional field counts
# as not given; login takes the first given of `login`/`email`/`mobile` and type-checks them all;
# register needs an email or a mobile). The one allowance is written in the config below:
# positive_data_acceptance accepts a 422 from the operations whose rules JSON Schema cannot state.
# Abuse limits (429) are switched off for the run (LOGIN_FAILURES_*, SEND_INVITATIONS_PER_USER,
# EVENTS_PER_USER_PER_DAY, EVENT_EDITS_PER_USER_PER_MINUTE, STREAM_TICKETS_PER_USER_PER_MINUTE,
# WEBHOOK_CREATIONS_PER_USER_PER_MINUTE, LINK_REQUESTS_PER_ADDRESS_PER_MINUTE,
# EVENT_NOTICES_PER_USER_PER_HOUR and the daily caps = 0): with them on, the fuzzer would spend most of its send-invitations and login cases on 429s
# and stop reaching the handlers; the 429 answers have their own tests. Webhooks may point anywhere
# (WEBHOOK_ALLOW_PRIVATE), so that registering one is not a DNS look-up of a made-up name, and
# nothing is delivered (DELIVERY_CONCURRENCY=0): the fuzzer's URLs are never called.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh

SCHEMATHESIS_VERSION="4.32.5"
BIN="${1:-${BIN:-target/debug/event-manager}}"
VENV="${VENV:-target/venv-schemathesis}"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
REPORT_DIR="${ST_REPORT_DIR:-target/schemathesis}"

# --- the tool, pinned, in its own venv ---------------------------------------------------------
if ! "$VENV/bin/st" --version 2>/dev/null | grep -qx "st, version $SCHEMATHESIS_VERSION"; then
  echo "schemathesis: installing schemathesis==$SCHEMATHESIS_VERSION into $VENV" >&2
  python3 -m venv "$VENV" ||
    { echo "schemathesis: FAILED: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" ||
    { echo "schemathesis: FAILED: pip install schemathesis==$SCHEMATHESIS_VERSION failed" >&2; exit 1; }
fi

# --- the service, with real data -----------------------------------------------------------------
trap serve_cleanup EXIT
trap 'exit 130' INT TERM
serve_start "$BIN" LOGIN_FAILURES_PER_ACCOUNT=0 LOGIN_FAILURES_PER_ADDRESS=0 \
  LOGIN_FAILURES_PER_ACCOUNT_ADDRESS=0 REGISTRATIONS_PER_ADDRESS=0 \
  SEND_INVITATIONS_PER_USER=0 SEND_RECIPIENTS_PER_DAY=0 SEND_RECIPIENTS_PER_DAY_ESTABLISHED=0 MESSAGES_PER_RECIPIENT_PER_DAY=0 \
  EVENTS_PER_USER_PER_DAY=0 EVENT_EDITS_PER_USER_PER_MINUTE=0 STREAM_TICKETS_PER_USER_PER_MINUTE=0 \
  WEBHOOK_CREATIONS_PER_USER_PER_MINUTE=0 WEBHOOK_CREATIONS_PER_HOST_PER_HOUR=0 \
  LINK_REQUESTS_PER_ADDRESS_PER_MINUTE=0 EVENT_NOTICES_PER_USER_PER_HOUR=0 \
  CONTACT_VERIFICATION=off WEBHOOK_ALLOW_PRIVATE=true DELIVERY_CONCURRENCY=0 ||
  { echo "schemathesis: FAILED: the service did not start" >&2; exit 1; }

# Writes shell assignments: TOKEN (the caller), LOGOUT_TOKEN (a second session of the caller, which
# the logout operation revokes), EVENT_ID (an event the caller owns), INVITATION_ID (a pending
# invitation the caller received), DOOMED_EVENT_ID (an event the caller owns, for the delete run),
# JOINED_EVENT_ID (an event the caller is a member of, with seats and guests),
# SENT_INVITATION_ID (a pending invitation the caller sent, to cancel and resend), WEBHOOK_ID (a
# webhook of the caller's), DOOMED_WEBHOOK_ID (another, for the delete run), CONTACTS (registered emails/mobiles as a TOML array, with
# invalid and empty entries), LOGINS (the same without the empty one), PASSWORD
# (every fixture user's).
if ! python3 - "$SERVE_URL/api/v1" >"$SERVE_DIR/fixtures.sh" <<'PY'; then
import json, sys, urllib.request

api = sys.argv[1]

def call(method, path, body=None, token=None):
    request = urllib.request.Request(api + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)

password = "correct horse battery"
caller = call("POST", "/register", {"name": "Fuzz", "email": "fuzz@example.com",
                                    "mobile": "09352864812", "password": password})["data"]
other = call("POST", "/register", {"name": "Reza", "email": "reza@example.com",
                                   "mobile": "09332114546", "password": password})["data"]
call("POST", "/register", {"name": "Sara", "mobile": "09303030300", "password": password})
doomed_user = call("POST", "/register", {"name": "Doomed", "email": "doomed@example.com",
                                         "password": password})["data"]
logout = call("POST", "/login", {"login": "fuzz@example.com", "password": password})["data"]
event = call("POST", "/events", {"title": "Fuzz party", "location": "Tehran"},
             caller["token"])["data"]
theirs = call("POST", "/events", {"title": "Reza's party", "max_guests": 10},
              other["token"])["data"]
joined = call("POST", "/events", {"title": "Reza's supper", "capacity": 40, "max_guests": 10},
              other["token"])["data"]
joining = call("POST", f"/{joined['id']}/send-invitations",
               {"invitations": ["fuzz@example.com"]}, other["token"])["data"]["sent"]
call("PATCH", f"/invitations/{joining[0]['id']}", {"status": "accepted"}, caller["token"])
doomed = call("POST", "/events", {"title": "Fuzz party to delete"}, caller["token"])["data"]
mine = call("POST", f"/{event['id']}/send-invitations",
            {"invitations": ["reza@example.com"]}, caller["token"])["data"]["sent"]
sent = call("POST", f"/{theirs['id']}/send-invitations",
            {"invitations": ["+98 935 286 4812"]}, other["token"])["data"]["sent"]
contacts = ["fuzz@example.com", "reza@example.com", "09352864812", "+989332114546",
            "09303030300", "nobody@example.com", "09121234567", "not a contact", ""]
print(f"PASSWORD='{password}'")
print(f"ERASE_TOKEN={doomed_user['token']}")
print(f"TOKEN={caller['token']}")
print(f"LOGOUT_TOKEN={logout['token']}")
print(f"EVENT_ID={event['id']}")
print(f"INVITATION_ID={sent[0]['id']}")
print(f"DOOMED_EVENT_ID={doomed['id']}")
print(f"JOINED_EVENT_ID={joined['id']}")
print(f"SENT_INVITATION_ID={mine[0]['id']}")
hook = call("POST", "/webhooks", {"url": "https://hooks.example.com/fuzz"}, caller["token"])["data"]
doomed_hook = call("POST", "/webhooks", {"url": "https://hooks.example.com/doomed"},
                   caller["token"])["data"]
print(f"WEBHOOK_ID={hook['id']}")
print(f"DOOMED_WEBHOOK_ID={doomed_hook['id']}")
print(f"CONTACTS='{json.dumps(contacts)}'")
print(f"LOGINS='{json.dumps([c for c in contacts if c.strip()])}'")
PY
  echo "schemathesis: FAILED: could not create the test data" >&2
  serve_log_tail
  exit 1
fi
# shellcheck disable=SC1091
source "$SERVE_DIR/fixtures.sh"

# Path parameters are real ids, so the operations reach their handlers instead of answering 404
# (the stateful phase still follows links to other ids, and unknown ids are covered by the
# tests); invitation entries, login names and passwords are drawn half of the time from real ones,
# so that sends and logins also succeed.
# No cache: every run starts on a fresh database, so answers replayed from an earlier run would be
# wrong (and the cache would land in the repository as .schemathesis/).
cat >"$SERVE_DIR/schemathesis.toml" <<TOML
[cache]
enabled = false

[dictionaries.contacts]
values = $CONTACTS

# The same without the empty entry, which a login's schema does not allow.
[dictionaries.logins]
values = $LOGINS

[dictionaries.passwords]
values = ["$PASSWORD"]

[parameters]
"path.event_id" = "$EVENT_ID"
"path.invitation_id" = "$INVITATION_ID"
"path.webhook_id" = "$WEBHOOK_ID"
"body.invitations[*]" = { dictionary = "contacts", probability = 0.5 }
"body.login" = { dictionary = "logins", probability = 0.5 }
"body.password" = { dictionary = "passwords", probability = 0.5 }

# A body over 64 KiB (e.g. more invitations than maxItems allows) is refused with 413 before it
# is read: a rejection like the others.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

# positive_data_acceptance expects every request the schema allows to succeed. These operations
# also answer 422 for rules that JSON Schema cannot state, each tested by the Rust suites:
#   register: an email or mobile another account has; a mobile must be a real phone number
#     (libphonenumber); a name that is blank once trimmed or holds control/bidi characters;
#   create_event, update_event: the same text rules for title, description and location;
#     ends_at >= starts_at; a reminder's 'before' from 5m to 30d, and no rule given twice;
#   change_role, remove_member: the owner's own role cannot change and the owner cannot leave
#     (which member is the owner is state);
#   send_invitations(_alias): each entry must be an email or a phone number; 'expires_in' from 1h
#     to 30d;
#   change_party, answer_invitation, answer_rsvp: 'guests' within the event's own 'max_guests'
#     (state); the comment's text rules;
#   create_webhook: the URL must be an absolute http(s) URL without credentials or fragment;
#   login: a password or a code is needed (the schema lets both be absent);
#   send_code, confirm_code: a channel with nothing left to prove, a wrong code (no schema can
#     know the code); reset_password: the same (401); update_me: a wrong current password;
#   put_email, put_mobile: a contact another account has proven, or the caller's own;
#   delete_email, delete_mobile: the other contact is not proven; erase_me: a wrong password;
#   the lists: a cursor must be one the server issued to this caller for this list and filters
#     (signed, docs/api.md "Pagination").
# update_event, answer_invitation and delete_event take If-Match: a schema-valid tag that is
# not the resource's current one is a failed precondition, 412 (docs/api.md, "Conditional
# requests").
# Every other operation must accept all schema-valid data, and every operation must refuse all
# schema-invalid data (negative_data_rejection), with no exception.
# Cancel and resend act on an invitation the caller sent (the pinned one above is one the caller
# received, for which both are 403); delete_event, in its own run, on an event of its own.
[[operations]]
include-operation-id-regex = "^(cancel_invitation|resend_invitation)$"
parameters = { "path.invitation_id" = "$SENT_INVITATION_ID" }

# Changing one's party needs an event the caller is a member of, not its owner.
[[operations]]
include-operation-id = "change_party"
parameters = { "path.event_id" = "$JOINED_EVENT_ID" }
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id = "delete_event"
parameters = { "path.event_id" = "$DOOMED_EVENT_ID" }
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]

[[operations]]
include-operation-id = "delete_webhook"
parameters = { "path.webhook_id" = "$DOOMED_WEBHOOK_ID" }

[[operations]]
include-operation-id-regex = "^(login|send_code|confirm_code|reset_password|update_me|put_email|put_mobile|delete_email|delete_mobile|erase_me|register|create_event|change_role|remove_member|send_invitations(_alias)?|answer_rsvp|list_events|list_members|list_event_invitations|list_sent(_alias)?|list_received|create_webhook|list_webhooks|list_deliveries)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id = "update_event"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]

[[operations]]
include-operation-id = "answer_invitation"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
TOML

# Five runs, every check in each:
#   1. every operation but logout, delete_event, delete_webhook and erase_me, in every phase including the
#      stateful one, with the caller's token: the stateful phase chains operations (login, then the
#      token's operations) and must never find the shared token revoked, or the pinned event or
#      webhook deleted, by an operation it made along the way;
#   2. delete_event alone, on an event of its own; 3. delete_webhook alone, on a webhook of its own;
#   4. logout alone, with a second session of the caller, which its first success revokes (later
#      calls with it are 401s, as documented);
#   5. erase_me alone, with a user of its own, whom its first success erases (later calls: 401).
mkdir -p "$REPORT_DIR"
TOTAL_CASES=0
SEED_USED=""

# only_tool_errors LOG: the run found no failure, and every error it reports is a schemathesis
# "Runtime Error" (its own generator tripping: "Inconsistent results", "AST constructor recursion
# depth mismatch"), not an answer of the service, a network error or a timeout.
only_tool_errors() {
  local log="$1"
  ! grep -q '^Failures:' "$log" || return 1
  local kinds
  kinds="$(sed -n '/^Errors:/,/^$/p' "$log" | grep -v '^Errors:' | grep -v '^$' || true)"
  [[ -n "$kinds" ]] && ! grep -qv 'Runtime Error' <<<"$kinds"
}

# run_st NAME [extra st arguments...]: one schemathesis run; counts its cases, fails on a failure.
# A run whose only errors are schemathesis' own (Hypothesis on Python 3.11 now and then raises
# "AST constructor recursion depth mismatch" while generating) is run again, at most twice (with a
# new seed unless SEED is set); a failure of the service is never retried.
run_st() {
  local name="$1"
  shift
  local log="$SERVE_DIR/schemathesis-$name.log"
  local args=(
    --config-file "$SERVE_DIR/schemathesis.toml"
    run "$SERVE_URL/api/v1/openapi.json"
    --checks all
    --max-examples "$MAX_EXAMPLES"
    --workers 2
    --request-timeout 10
    --report junit --report-junit-path "$REPORT_DIR/junit-$name.xml"
    --no-color
    "$@"
  )
  [[ -n "${SEED:-}" ]] && args+=(--seed "$SEED")
  local status attempt
  for attempt in 1 2 3; do
    status=0
    NO_COLOR=1 "$VENV/bin/st" "${args[@]}" >"$log" 2>&1 || status=$?
    if [[ "$status" -ne 0 && "$attempt" -lt 3 ]] && only_tool_errors "$log"; then
      echo "schemathesis ($name): schemathesis' own runtime error, no failure; running once more:" >&2
      sed -n '/= ERRORS =/,/^Runtime Error/p;/^Runtime Error/{n;n;p}' "$log" | tail -n 3 >&2
      continue
    fi
    break
  done
  local cases failures errors seed
  cases="$(grep -Eo '[0-9]+ generated' "$log" | tail -n1 | grep -Eo '[0-9]+' || true)"
  failures="$(grep -Eo '[0-9]+ found [0-9]+ unique failures?' "$log" | tail -n1 | grep -Eo '[0-9]+ unique' | grep -Eo '[0-9]+' || true)"
  errors="$(grep -Eo '[0-9]+ errors?' "$log" | tail -n1 | grep -Eo '[0-9]+' || true)"
  seed="$(grep -Eo 'Seed: [0-9]+' "$log" | tail -n1 | grep -Eo '[0-9]+' || true)"
  if [[ "$status" -ne 0 || -z "$cases" || "${failures:-0}" -ne 0 ]]; then
    cat "$log"
    serve_log_tail
    echo "schemathesis: FAILED ($name): ${cases:-?} cases, ${failures:-?} failures${errors:+, $errors errors}" \
      "(exit $status; reproduce with SEED=$seed)" >&2
    exit 1
  fi
  echo "schemathesis ($name): $cases cases, 0 failures (seed $seed)"
  TOTAL_CASES=$((TOTAL_CASES + cases))
  SEED_USED="${SEED_USED:+$SEED_USED,}$seed"
}

# The live stream (stream_changes) never ends by design, so a fuzzer's request to it can only time
# out; the Rust end-to-end suite and scripts/browser-stream-test.sh test it.
run_st all-but-logout-and-delete --exclude-operation-id logout --exclude-operation-id delete_event \
  --exclude-operation-id delete_webhook --exclude-operation-id stream_changes \
  --exclude-operation-id erase_me \
  --header "Authorization: Bearer $TOKEN" --phases examples,coverage,fuzzing,stateful
run_st delete-event --include-operation-id delete_event \
  --header "Authorization: Bearer $TOKEN" --phases examples,coverage,fuzzing
run_st delete-webhook --include-operation-id delete_webhook \
  --header "Authorization: Bearer $TOKEN" --phases examples,coverage,fuzzing
run_st logout --include-operation-id logout \
  --header "Authorization: Bearer $LOGOUT_TOKEN" --phases examples,coverage,fuzzing
run_st erase-me --include-operation-id erase_me \
  --header "Authorization: Bearer $ERASE_TOKEN" --phases examples,coverage,fuzzing
echo "schemathesis: $TOTAL_CASES cases, 0 failures, every check" \
  "(${MAX_EXAMPLES} examples per operation, seeds $SEED_USED)"
