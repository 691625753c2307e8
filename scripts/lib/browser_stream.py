#!/usr/bin/env python3
"""Check that a real `EventSource` in headless Chromium receives a change the server pushes.

Standard library only: cdp.py (next to this file) drives Chromium over the DevTools protocol, and
urllib plays the other users. Called by scripts/browser-stream-test.sh with the running service's
base URL; prints one result line and exits 0, or prints what failed and exits 1.

The test:
  * registers A and B over HTTP; A creates an event; B gets a stream ticket
    (POST /api/v1/stream-tickets with B's bearer token);
  * Chromium opens http://127.0.0.1:PORT/docs/ (so the page is same-origin with the API, under the
    docs page's `connect-src 'self'` policy) and, in it, `new EventSource('/api/v1/me/stream?ticket=…')`
    collecting every `invitation.created` event (a named event: `addEventListener`, not `onmessage`);
  * once `onopen` fired, A invites B's email; the page must receive the change within 10 s, with
    `type` invitation.created, `data.invitee.id` B's id, `data.id` the invitation A sent, and the
    event's `lastEventId` equal to the change's `id` (and to B's feed, GET /api/v1/me/events);
  * nothing else arrived (no unnamed `message` events, no error), the stream's response was
    200 text/event-stream, and the ticket, now used, is refused: a second GET with it answers 401.

Every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from cdp import BASE_FLAGS, Cdp, Failure, chromium_log, start_chromium, stop_chromium

CHROMIUM_FLAGS = [
    *BASE_FLAGS,
    "--window-size=1024,768",
    # The page talks to 127.0.0.1 only; no host name resolves, so nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
OPEN_TIMEOUT = 10.0  # for the EventSource to open
RECEIVE_TIMEOUT = 10.0  # for the change to reach the page after A sent the invitation
POLL = 0.05

# Runs in the page: opens the stream and records what it sees in window.__stream.
OPEN_STREAM_JS = """
(() => {
  const seen = window.__stream = {opened: 0, openedAt: null, errors: [], events: [], unnamed: []};
  const source = window.__source = new EventSource('/api/v1/me/stream?ticket=' + encodeURIComponent(%s));
  source.onopen = () => { seen.opened += 1; seen.openedAt = seen.openedAt ?? performance.now(); };
  source.onerror = () => { seen.errors.push({readyState: source.readyState, at: performance.now()}); };
  source.onmessage = (e) => { seen.unnamed.push({data: e.data, lastEventId: e.lastEventId}); };
  source.addEventListener('invitation.created', (e) => {
    seen.events.push({type: e.type, data: e.data, lastEventId: e.lastEventId, origin: e.origin,
                      at: performance.now()});
  });
  return source.url;
})()
"""
STATE_JS = "JSON.stringify(Object.assign({readyState: window.__source.readyState}, window.__stream))"


# --- HTTP, as the other users ------------------------------------------------------------------


def api(base_url: str, method: str, path: str, body=None, token: str | None = None):
    """One JSON request; returns (status, parsed body or None). Never raises on an HTTP status."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError as error:
        raise Failure(f"{method} {path}: {error}") from error
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:300]


def expect(base_url: str, status: int, method: str, path: str, body=None, token=None):
    got, answer = api(base_url, method, path, body, token)
    if got != status:
        raise Failure(f"{method} {path} answered {got}, expected {status}: {answer}")
    return answer


def register(base_url: str, name: str) -> dict:
    email = f"{name.lower()}-{uuid.uuid4().hex[:12]}@example.com"
    answer = expect(
        base_url, 201, "POST", "/api/v1/register",
        {"name": name, "email": email, "password": "correct horse battery"},
    )
    data = answer["data"]
    return {"id": data["user"]["id"], "token": data["token"], "email": email}


def ticket_reuse_status(base_url: str, ticket: str) -> int:
    """GET the stream with an already used ticket; only the status matters (a 200 is closed at once)."""
    path = "/api/v1/me/stream?ticket=" + urllib.parse.quote(ticket, safe="")
    request = urllib.request.Request(f"{base_url}{path}", headers={"Accept": "text/event-stream"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code
    except OSError as error:
        raise Failure(f"GET /api/v1/me/stream with the used ticket: {error}") from error


# --- the browser -------------------------------------------------------------------------------


def state(cdp: Cdp) -> dict:
    return json.loads(cdp.evaluate(STATE_JS))


def wait_for(cdp: Cdp, done, timeout: float) -> dict:
    """Polls the page's record until `done(record)` or `timeout` seconds; returns the last record."""
    deadline = time.monotonic() + timeout
    while True:
        record = state(cdp)
        if done(record) or time.monotonic() >= deadline:
            return record
        time.sleep(POLL)


def run(chromium: str, base_url: str) -> str:
    page_url = f"{base_url}/docs/"
    ann, bob = register(base_url, "Ann"), register(base_url, "Bob")
    event = expect(
        base_url, 201, "POST", "/api/v1/events", {"title": "Stream check"}, ann["token"]
    )["data"]
    ticket = expect(base_url, 201, "POST", "/api/v1/stream-tickets", token=bob["token"])["data"]["ticket"]

    profile = tempfile.mkdtemp(prefix="event-manager-chromium.")
    process = cdp = None
    try:
        process, ws_url = start_chromium(chromium, profile, CHROMIUM_FLAGS)
        cdp = Cdp(ws_url)
        for domain in ("Network", "Page", "Runtime"):
            cdp.call(f"{domain}.enable")
        navigation = cdp.call("Page.navigate", url=page_url)
        if navigation.get("errorText"):
            raise Failure(f"loading {page_url} failed: {navigation['errorText']}")
        deadline = time.monotonic() + 30
        while cdp.evaluate("document.readyState") != "complete":
            if time.monotonic() >= deadline:
                raise Failure(f"{page_url} did not finish loading within 30 s")
            time.sleep(0.1)
        origin = cdp.evaluate("location.origin")

        cdp.evaluate(OPEN_STREAM_JS % json.dumps(ticket))
        opened = wait_for(cdp, lambda r: r["opened"] or r["readyState"] == 2, OPEN_TIMEOUT)
        if not opened["opened"]:
            why = (
                "was closed (refused?)"
                if opened["readyState"] == 2
                else f"did not open within {OPEN_TIMEOUT:.0f} s"
            )
            raise Failure(
                f"the EventSource {why} (readyState {opened['readyState']}, errors {opened['errors']})"
            )

        sent_at = cdp.evaluate("performance.now()")  # the page's clock, as the events' `at`
        report = expect(
            base_url, 200, "POST", f"/api/v1/{event['id']}/send-invitations",
            {"invitations": [bob["email"]]}, ann["token"],
        )["data"]
        if len(report["sent"]) != 1:
            raise Failure(f"A's invitation to B was not sent: {report}")
        invitation = report["sent"][0]
        received = wait_for(cdp, lambda r: r["events"] or r["readyState"] == 2, RECEIVE_TIMEOUT)
        if not received["events"]:
            raise Failure(
                f"no invitation.created reached the page within {RECEIVE_TIMEOUT:.0f} s "
                f"(readyState {received['readyState']}, errors {received['errors']}, "
                f"unnamed messages {received['unnamed']})"
            )
        time.sleep(0.3)  # anything else that would arrive with it
        final = state(cdp)
        cdp.evaluate("window.__source.close(), true")

        problems: list[str] = []
        got = final["events"][0]
        elapsed_ms = got["at"] - sent_at  # from just before A's request to the page's listener
        try:
            change = json.loads(got["data"])
        except ValueError:
            raise Failure(f"the event's data is not JSON: {got['data'][:300]!r}") from None
        if len(final["events"]) != 1:
            problems.append(
                f"{len(final['events'])} invitation.created events, expected 1: {final['events']}"
            )
        if final["unnamed"]:
            problems.append(f"unnamed message events arrived: {final['unnamed']}")
        if final["errors"]:
            problems.append(f"the EventSource reported errors: {final['errors']}")
        if final["opened"] != 1:
            problems.append(f"the EventSource opened {final['opened']} times, expected once")
        if got["origin"] != origin:
            problems.append(f"the event's origin is {got['origin']!r}, the page's {origin!r}")
        if change.get("type") != "invitation.created":
            problems.append(f"data.type is {change.get('type')!r}, expected 'invitation.created'")
        data = change.get("data") or {}
        if (data.get("invitee") or {}).get("id") != bob["id"]:
            problems.append(f"data.data.invitee is {data.get('invitee')!r}, expected B ({bob['id']})")
        if data.get("id") != invitation["id"]:
            problems.append(f"data.data.id is {data.get('id')!r}, A sent invitation {invitation['id']}")
        if not isinstance(change.get("id"), int) or got["lastEventId"] != str(change["id"]):
            problems.append(
                f"lastEventId {got['lastEventId']!r} is not the change's id {change.get('id')!r}"
            )
        feed = expect(base_url, 200, "GET", "/api/v1/me/events?after=0", token=bob["token"])["data"]
        if [c["id"] for c in feed] != [change.get("id")]:
            problems.append(
                f"B's feed has changes {[c['id'] for c in feed]}, the stream sent {change.get('id')}"
            )
        elif feed[0] != change:
            problems.append(f"the stream's change differs from the feed's: {change} vs {feed[0]}")

        # How Chromium saw the stream's response.
        streams = [
            e["params"]["response"]
            for e in cdp.events
            if e["method"] == "Network.responseReceived"
            and "/api/v1/me/stream" in e["params"]["response"]["url"]
        ]
        if len(streams) != 1:
            problems.append(f"Chromium saw {len(streams)} responses of /api/v1/me/stream, expected 1")
        elif streams[0]["status"] != 200 or streams[0]["mimeType"] != "text/event-stream":
            problems.append(
                f"the stream answered {streams[0]['status']} {streams[0]['mimeType']!r}, "
                "expected 200 'text/event-stream'"
            )

        reuse = ticket_reuse_status(base_url, ticket)
        if reuse != 401:
            problems.append(
                f"the used ticket was accepted again: GET /api/v1/me/stream answered {reuse}, "
                "expected 401"
            )

        try:
            cdp.call("Browser.close")
        except Failure:
            pass
        cdp.ws.close()
    except Failure:
        if process is not None:
            sys.stderr.write(chromium_log(profile))
        if cdp is not None:
            try:
                cdp.call("Browser.close")
            except (Failure, OSError):
                pass
        raise
    finally:
        if process is not None:
            stop_chromium(process)
        shutil.rmtree(profile, ignore_errors=True)

    if problems:
        raise Failure("\n".join(problems))
    return (
        f"browser: EventSource received invitation.created (change {change['id']}) "
        f"in {elapsed_ms:.0f} ms; used ticket refused (401)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--base-url", required=True, help="the running service, http://127.0.0.1:PORT")
    args = parser.parse_args()
    try:
        print(run(args.chromium, args.base_url.rstrip("/")), flush=True)
        return 0
    except Failure as failure:
        print(f"browser: FAILED\n{failure}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
