#!/usr/bin/env python3
"""Check the service's calendar files with a real parser and a real CalDAV server.

Called by scripts/calendar-test.sh with the running service's base URL, its outbox folder and
Radicale's command. The checks:
  * Olivia creates "Launch" in Asia/Tehran (18:00-22:00 there) and "Summer" in Europe/Berlin
    (in July, summer time); her GET /api/v1/events/{id}/calendar.ics parses with `icalendar`:
    one VEVENT, its UID stable across reads, DTSTART/DTEND the right instants in the right zone,
    a VTIMEZONE for the zone, SEQUENCE 0, ORGANIZER and ATTENDEE (Olivia, ACCEPTED), SUMMARY,
    LOCATION and DESCRIPTION as written (commas, semicolons and line breaks included);
  * editing the title, the time or the place raises SEQUENCE; the UID stays;
  * Sara is invited by email; the link's calendar (`/i/{token}/calendar.ics`) names her with
    PARTSTAT NEEDS-ACTION, then TENTATIVE after a "maybe" by the link;
  * the invitation email carries a `text/calendar; method=REQUEST` part (RFC 6047) with
    METHOD:REQUEST, the same UID and Sara's PARTSTAT NEEDS-ACTION;
  * a cancelled invitation's email carries `method=CANCEL` with METHOD:CANCEL, STATUS:CANCELLED
    and the same UID;
  * Radicale (auth none, its own folder) takes every file by CalDAV PUT into a calendar made with
    MKCALENDAR (201), and gives back the same UID and start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import glob
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from zoneinfo import ZoneInfo

from icalendar import Calendar


class Failure(Exception):
    pass


def request(base, method, path, body=None, token=None, headers=None, raw=None):
    sent = {"Accept": "application/json", **(headers or {})}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def expect(base, status, method, path, body=None, token=None, **kwargs):
    got, headers, raw = request(base, method, path, body, token, **kwargs)
    if got != status:
        raise Failure(f"{method} {path} answered {got}, expected {status}: {raw[:500]!r}")
    return headers, raw


def api(base, status, method, path, body=None, token=None):
    return json.loads(expect(base, status, method, path, body, token)[1])


def register(base, name):
    address = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    data = api(base, 201, "POST", "/api/v1/register",
               {"name": name, "email": address, "password": "correct horse battery"})["data"]
    return {"id": data["user"]["id"], "token": data["token"], "email": address, "name": name}


def one_event(text: bytes):
    calendar = Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    if len(events) != 1:
        raise Failure(f"expected one VEVENT, found {len(events)}:\n{text.decode()}")
    return calendar, events[0]


def ics(base, path, token=None):
    headers, raw = expect(base, 200, "GET", path, token=token, headers={"Accept": "text/calendar"})
    if not headers.get("Content-Type", "").startswith("text/calendar"):
        raise Failure(f"{path}: Content-Type {headers.get('Content-Type')}")
    return raw


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def link_in_outbox(outbox, to, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in glob.glob(os.path.join(outbox, "**", "*.eml"), recursive=True):
            with open(path, "rb") as f:
                message = email.message_from_binary_file(f, policy=email.policy.default)
            if to in str(message["To"]):
                text = message.get_body(preferencelist=("plain",)).get_content()
                links = re.findall(r"https?://\S+/i/[A-Za-z0-9_-]+", text)
                return links[0], message
        time.sleep(0.2)
    raise Failure(f"no invitation email to {to} within {timeout:.0f} s")


def check(condition, what):
    if not condition:
        raise Failure(what)


def run(base, outbox, radicale, work):
    olivia, sara = register(base, "Olivia"), register(base, "Sara")
    launch = api(base, 201, "POST", "/api/v1/events", {
        "title": "Launch, v2; the party",
        "description": "Music, food;\nfriends",
        "location": "Azadi Tower, 5th floor",
        "starts_at": "2027-01-15T14:30:00Z",
        "ends_at": "2027-01-15T18:30:00Z",
        "time_zone": "Asia/Tehran",
    }, olivia["token"])["data"]
    check(launch["time_zone"] == "Asia/Tehran", f"the event says {launch['time_zone']}")
    summer = api(base, 201, "POST", "/api/v1/events", {
        "title": "Summer", "starts_at": "2027-07-01T16:00:00Z", "time_zone": "Europe/Berlin",
    }, olivia["token"])["data"]
    files = {}

    path = f"/api/v1/events/{launch['id']}/calendar.ics"
    first = ics(base, path, olivia["token"])
    calendar, event = one_event(first)
    tehran = ZoneInfo("Asia/Tehran")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    check(start == dt.datetime(2027, 1, 15, 18, 0, tzinfo=tehran), f"DTSTART {start!r}")
    check(end == dt.datetime(2027, 1, 15, 22, 0, tzinfo=tehran), f"DTEND {end!r}")
    check(event["DTSTART"].params.get("TZID") == "Asia/Tehran", "DTSTART names its TZID")
    zones = [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")]
    check(zones == ["Asia/Tehran"], f"VTIMEZONE {zones}")
    uid = str(event["UID"])
    check(uid == f"{launch['id']}@event-manager", f"UID {uid}")
    check(int(event["SEQUENCE"]) == 0, f"SEQUENCE {event['SEQUENCE']}")
    check(str(event["SUMMARY"]) == "Launch, v2; the party", f"SUMMARY {event['SUMMARY']!r}")
    check(str(event["DESCRIPTION"]) == "Music, food;\nfriends", f"DESCRIPTION {event['DESCRIPTION']!r}")
    check(str(event["LOCATION"]) == "Azadi Tower, 5th floor", "LOCATION")
    check(event["ORGANIZER"].params.get("CN") == "Olivia", f"ORGANIZER {event['ORGANIZER']}")
    check(str(event["ORGANIZER"]) == f"urn:uuid:{olivia['id']}", "ORGANIZER's address")
    check(event["ATTENDEE"].params.get("PARTSTAT") == "ACCEPTED", f"ATTENDEE {event['ATTENDEE']}")
    files["launch"] = first

    berlin_file = ics(base, f"/api/v1/events/{summer['id']}/calendar.ics", olivia["token"])
    calendar, event = one_event(berlin_file)
    check(event.decoded("DTSTART") == dt.datetime(2027, 7, 1, 18, 0, tzinfo=ZoneInfo("Europe/Berlin")),
          f"summer DTSTART {event.decoded('DTSTART')!r}")
    kinds = sorted({c.name for z in calendar.walk("VTIMEZONE") for c in z.subcomponents})
    check(kinds == ["DAYLIGHT", "STANDARD"], f"Berlin's observances {kinds}")
    files["summer"] = berlin_file

    # Edits raise SEQUENCE; the UID stays.
    for n, patch in enumerate([{"title": "Launch"}, {"starts_at": "2027-01-15T15:00:00Z"},
                               {"location": "Milad Tower"}], start=1):
        api(base, 200, "PATCH", f"/api/v1/events/{launch['id']}", patch, olivia["token"])
        _, event = one_event(ics(base, path, olivia["token"]))
        check(int(event["SEQUENCE"]) == n and str(event["UID"]) == uid,
              f"after {patch}: SEQUENCE {event['SEQUENCE']}, UID {event['UID']}")

    # Sara's copies: the link's calendar and the email's REQUEST.
    api(base, 200, "POST", f"/api/v1/events/{launch['id']}/invitations",
        {"invitations": [sara["email"]]}, olivia["token"])
    link, message = link_in_outbox(outbox, sara["email"])
    token = link.rsplit("/", 1)[1]
    linked = ics(base, f"/i/{token}/calendar.ics")
    _, event = one_event(linked)
    check(str(event["ATTENDEE"]) == f"urn:uuid:{sara['id']}", f"ATTENDEE {event['ATTENDEE']}")
    check(event["ATTENDEE"].params.get("PARTSTAT") == "NEEDS-ACTION", "pending: NEEDS-ACTION")
    check(str(event["URL"]).endswith(f"/i/{token}"), f"URL {event.get('URL')}")
    files["sara"] = linked
    api(base, 200, "POST", f"/api/v1/rsvp/{token}", {"status": "tentative"})
    _, event = one_event(ics(base, f"/i/{token}/calendar.ics"))
    check(event["ATTENDEE"].params.get("PARTSTAT") == "TENTATIVE", "maybe: TENTATIVE")

    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    check(len(parts) == 1, f"the email has {len(parts)} text/calendar parts")
    check(parts[0].get_param("method") == "REQUEST", f"the part's method {parts[0].get_param('method')}")
    invite = parts[0].get_content()
    invite = invite.encode() if isinstance(invite, str) else invite
    calendar, event = one_event(invite)
    check(str(calendar["METHOD"]) == "REQUEST", "METHOD:REQUEST")
    check(str(event["UID"]) == uid, "the email's UID is the event's")
    check(event["ATTENDEE"].params.get("PARTSTAT") == "NEEDS-ACTION", "the email's PARTSTAT")
    files["request"] = invite

    # A cancelled invitation's email carries METHOD:CANCEL for the same UID.
    reza = register(base, "Reza")
    sent = api(base, 200, "POST", f"/api/v1/events/{launch['id']}/invitations",
               {"invitations": [reza["email"]]}, olivia["token"])["data"]
    link_in_outbox(outbox, reza["email"])
    expect(base, 200, "DELETE", f"/api/v1/invitations/{sent['sent'][0]['id']}", token=olivia["token"])
    deadline = time.monotonic() + 20
    cancel = None
    while cancel is None and time.monotonic() < deadline:
        for path in glob.glob(os.path.join(outbox, "**", "*.eml"), recursive=True):
            with open(path, "rb") as f:
                message = email.message_from_binary_file(f, policy=email.policy.default)
            if reza["email"] in str(message["To"]) and str(message["Subject"]).startswith("Cancelled"):
                cancel = message
        time.sleep(0.2)
    check(cancel is not None, "no cancellation email to Reza")
    parts = [p for p in cancel.walk() if p.get_content_type() == "text/calendar"]
    check(len(parts) == 1 and parts[0].get_param("method") == "CANCEL", "the cancellation's calendar part")
    text = parts[0].get_content()
    text = text.encode() if isinstance(text, str) else text
    calendar, event = one_event(text)
    check(str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED",
          f"METHOD {calendar.get('METHOD')}, STATUS {event.get('STATUS')}")
    check(str(event["UID"]) == uid, "the cancellation's UID is the event's")

    # Radicale stores each file (it parses what it is given) and gives it back.
    port = free_port()
    folder = os.path.join(work, "radicale")
    server = subprocess.Popen(
        [radicale, "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
         "--rights-type", "authenticated", "--storage-filesystem-folder", folder,
         "--logging-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        dav = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise Failure("radicale did not start: " + server.stderr.read().decode()[-500:])
                time.sleep(0.2)
        auth = {"Authorization": "Basic c2FyYTp4"}  # sara:x (auth none takes any password)
        for name, text in files.items():
            collection = f"/sara/{name}/"
            expect(dav, 201, "MKCALENDAR", collection, headers=auth)
            item = f"{collection}{name}.ics"
            expect(dav, 201, "PUT", item, headers={**auth, "Content-Type": "text/calendar"},
                   raw=text if name != "request" else re.sub(rb"METHOD:REQUEST\r\n", b"", text))
            _, back = expect(dav, 200, "GET", item, headers=auth)
            _, event = one_event(back)
            check(str(event["UID"]).endswith("@event-manager"), f"{name}: Radicale's UID {event['UID']}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return (f"calendar: {len(files)} files parsed by icalendar and stored by Radicale "
            "(Tehran and Berlin zones, SEQUENCE 0..3, PARTSTAT NEEDS-ACTION/TENTATIVE, email REQUEST and CANCEL parts)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--radicale", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    try:
        print(run(args.base_url, args.outbox, args.radicale, args.work))
        return 0
    except Failure as failure:
        print(f"calendar: FAILED: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
