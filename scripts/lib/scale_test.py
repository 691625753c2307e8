#!/usr/bin/env python3
"""Checks of the scaled-out shape (scripts/scale-test.sh): three service processes behind HAProxy,
on one PostgreSQL reached through PgBouncer in transaction mode.

Standard library only; prints one line per check with its figure, and exits 1 on the first
failure. Through HAProxy (`--lb`), unless a check names one process (`--apps`):

  * the seed's scenario: register, log in, create an event, invite by email and mobile, answer,
    and read the sent and received lists;
  * 100 concurrent answers to one invitation: exactly one 200, the rest 409;
  * 80 invitees accepting a 50-seat event at once: exactly 50 seats taken, 30 `event_full`;
  * read-your-writes 50 times in a row: an event created through one request is read at once by
    the next (whichever process serves it);
  * a live stream on process 1 receives a change made through process 2, by `NOTIFY` on the
    direct connection, well within the polling interval;
  * 300 invitations sent concurrently through all three processes: the change feed's ids, read
    from the primary, are gap-free and each change is numbered once, and the three delivery
    workers write each invitation's email once (to the shared outbox);
  * the login limit holds across processes: 15 bad logins for one account from one client
    address, spread over the three processes by HAProxy, give at most 5 401s, then 429s;
  * the client's own X-Forwarded-For cannot forge another address past HAProxy;
  * list reads are served by the streaming standby, which applies each commit 5 ms late
    (`recovery_min_apply_delay`), while another client commits on the primary every 2 ms: a read
    waits the few milliseconds the standby needs to catch up rather than going to the primary;
    and they still see one's own writes with the standby's replay paused (they fall back to the
    primary);
  * the standby stopped mid-run, and started again: every read still 200 and current, and the
    standby serves reads again once back.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import email
import email.policy
import glob
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

PASSWORD = "correct horse battery"


class Failure(Exception):
    pass


def call(base: str, method: str, path: str, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/api/v1{path}", data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, (json.loads(raw) if raw else None)


def expect(status, answer, wanted, what):
    if status != wanted:
        raise Failure(f"{what}: {status} {answer}, expected {wanted}")
    return answer


def register(base: str, name: str, mobile: str | None = None) -> dict:
    email = f"{name.lower()}-{uuid.uuid4().hex[:12]}@example.com"
    body = {"name": name, "email": email, "password": PASSWORD}
    if mobile:
        body["mobile"] = mobile
    answer = expect(*call(base, "POST", "/register", body), 201, f"register {name}")
    return {"token": answer["data"]["token"], "email": email, "id": answer["data"]["user"]["id"]}


def event(base: str, owner: dict, **fields) -> str:
    body = {"title": "Launch party", **fields}
    return expect(*call(base, "POST", "/events", body, owner["token"]), 201, "create event")[
        "data"]["id"]


def send(base: str, sender: dict, event_id: str, contacts: list[str]) -> dict:
    return expect(
        *call(base, "POST", f"/{event_id}/send-invitations", {"invitations": contacts},
              sender["token"]),
        200, "send invitations",
    )["data"]


def many(count: int, work, workers: int = 32):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, range(count)))


def seed_scenario(lb: str) -> str:
    olivia = register(lb, "Olivia")
    sara, reza = register(lb, "Sara"), register(lb, "Reza", mobile="09121234567")
    logged = expect(*call(lb, "POST", "/login", {"login": sara["email"], "password": PASSWORD}),
                    200, "login")
    sara["token"] = logged["data"]["token"]
    event_id = event(lb, olivia)
    sent = send(lb, olivia, event_id, [sara["email"], "09121234567", "nobody@example.com"])
    if len(sent["sent"]) != 2 or len(sent["ignored"]) != 1:
        raise Failure(f"the seed's send: {sent}")
    by_contact = {s["contact"]: s["id"] for s in sent["sent"]}
    expect(*call(lb, "PATCH", f"/invitations/{by_contact[sara['email']]}", {"status": "accepted"},
                 sara["token"]), 200, "Sara accepts")
    expect(*call(lb, "PATCH", f"/invitations/{by_contact['09121234567']}", {"status": "rejected"},
                 reza["token"]), 200, "Reza rejects")
    mine = expect(*call(lb, "GET", "/sended-invitations", token=olivia["token"]), 200, "sent list")
    statuses = sorted(i["status"] for i in mine["data"])
    if statuses != ["accepted", "rejected"]:
        raise Failure(f"Olivia's sent list: {statuses}")
    received = expect(*call(lb, "GET", "/received-invitations", token=sara["token"]), 200,
                      "received list")
    if [i["status"] for i in received["data"]] != ["accepted"]:
        raise Failure(f"Sara's received list: {received}")
    return "seed scenario: register, login, send (2 sent, 1 ignored), accept, reject, both lists"


def answer_race(lb: str) -> str:
    olivia, sara = register(lb, "Olivia"), register(lb, "Sara")
    event_id = event(lb, olivia)
    invitation = send(lb, olivia, event_id, [sara["email"]])["sent"][0]["id"]
    statuses = many(100, lambda _: call(lb, "PATCH", f"/invitations/{invitation}",
                                        {"status": "accepted"}, sara["token"])[0])
    if statuses.count(200) != 1 or statuses.count(409) != 99:
        raise Failure(f"100 answers at once: {sorted(set(statuses))} "
                      f"({statuses.count(200)} x 200, {statuses.count(409)} x 409)")
    return "100 concurrent answers to one invitation: 1 x 200, 99 x 409"


def capacity_race(lb: str) -> str:
    olivia = register(lb, "Olivia")
    guests = many(80, lambda n: register(lb, f"Guest{n}"), workers=16)
    event_id = event(lb, olivia, capacity=50, waitlist=False)
    sent = send(lb, olivia, event_id, [g["email"] for g in guests])["sent"]
    ids = {s["contact"]: s["id"] for s in sent}
    answers = many(80, lambda n: call(lb, "PATCH", f"/invitations/{ids[guests[n]['email']]}",
                                      {"status": "accepted"}, guests[n]["token"]))
    ok = sum(1 for status, _ in answers if status == 200)
    full = sum(1 for status, body in answers if status == 409 and body["code"] == "event_full")
    if (ok, full) != (50, 30):
        raise Failure(f"80 accepting a 50-seat event: {ok} accepted, {full} event_full, "
                      f"{[s for s, _ in answers if s not in (200, 409)]}")
    shown = expect(*call(lb, "GET", f"/events/{event_id}", token=olivia["token"]), 200, "event")
    if shown["data"]["members_count"] != 51:
        raise Failure(f"the event counts {shown['data']['members_count']} members, expected 51")
    return "80 accepting a 50-seat event at once: 50 seated, 30 event_full, 51 members"


def read_your_writes(lb: str) -> str:
    olivia = register(lb, "Olivia")
    for n in range(50):
        event_id = event(lb, olivia, title=f"Event {n}")
        expect(*call(lb, "GET", f"/events/{event_id}", token=olivia["token"]), 200,
               f"read-your-write {n}")
    listed = expect(*call(lb, "GET", "/events?limit=100", token=olivia["token"]), 200, "list")
    if len(listed["data"]) != 50:
        raise Failure(f"the list shows {len(listed['data'])} of 50 events just created")
    return "read-your-writes: 50 creates each read at once, and all 50 listed"


def live_stream(apps: list[str]) -> str:
    olivia, sara = register(apps[1], "Olivia"), register(apps[0], "Sara")
    ticket = expect(*call(apps[0], "POST", "/stream-tickets", {}, sara["token"]), 201,
                    "stream ticket")["data"]["ticket"]
    request = urllib.request.Request(f"{apps[0]}/api/v1/me/stream?ticket={ticket}")
    stream = urllib.request.urlopen(request, timeout=30)
    got: list[tuple[float, str]] = []

    def read():
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("event: invitation.created"):
                got.append((time.monotonic(), line))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    event_id = event(apps[1], olivia)
    started = time.monotonic()
    send(apps[1], olivia, event_id, [sara["email"]])
    reader.join(timeout=10)
    stream.close()
    if not got:
        raise Failure("process 1's stream did not receive the invitation sent through process 2")
    lag = (got[0][0] - started) * 1000
    return f"live stream on process 1 got a change made through process 2 in {lag:.0f} ms"


def emails_to(outbox: str, addresses: set[str]) -> list[tuple[str, str]]:
    """(To, Subject) of every email in the shared outbox to one of `addresses`."""
    found = []
    for path in glob.glob(os.path.join(outbox, "mail", "**", "*.eml"), recursive=True):
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.default)
        if str(message["To"]) in addresses:
            found.append((str(message["To"]), str(message["Subject"])))
    return found


def feed_gap_free(lb: str, primary: str, outbox: str) -> str:
    olivia = register(lb, "Olivia")
    invitees = many(30, lambda n: register(lb, f"Invitee{n}"), workers=16)
    events = [event(lb, olivia, title=f"Party {n}") for n in range(10)]
    before = int(psql(primary, "SELECT coalesce(max(id), 0) FROM changes"))
    many(10, lambda n: send(lb, olivia, events[n], [i["email"] for i in invitees]), workers=10)
    ids = [int(x) for x in psql(primary, f"SELECT id FROM changes WHERE id > {before} ORDER BY id")
           .split()]
    if ids != list(range(before + 1, before + 1 + len(ids))) or len(ids) < 300:
        raise Failure(f"change ids after {before}: {len(ids)} ids, not consecutive "
                      f"({ids[:5]}...{ids[-5:]})")
    # The three processes' delivery workers share the queue: each invitation's email once.
    addresses = {i["email"] for i in invitees}
    deadline = time.monotonic() + 30
    while len(sent := emails_to(outbox, addresses)) < 300 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    sent = emails_to(outbox, addresses)
    if len(sent) != 300 or len(set(sent)) != 300:
        raise Failure(f"{len(sent)} invitation emails ({len(set(sent))} distinct) for 300 invitations")
    return (f"300 invitations sent at once through 3 processes: {len(ids)} changes, ids gap-free; "
            "300 emails, each once")


def login_limit(lb: str) -> str:
    victim = register(lb, "Victim")
    statuses = [call(lb, "POST", "/login", {"login": victim["email"], "password": "wrong"})[0]
                for _ in range(15)]
    if statuses.count(401) > 5 or statuses[-1] != 429:
        raise Failure(f"15 bad logins across 3 processes: {statuses}")
    # A forged X-Forwarded-For is dropped by HAProxy: still the same address, still refused.
    forged = call(lb, "POST", "/login", {"login": victim["email"], "password": "wrong"},
                  headers={"X-Forwarded-For": "203.0.113.77"})[0]
    if forged != 429:
        raise Failure(f"a forged X-Forwarded-For got {forged}, expected 429")
    return (f"login limit across 3 processes: {statuses.count(401)} x 401 then 429; "
            "a forged X-Forwarded-For changes nothing")


def list_titles(lb: str, user: dict) -> list[str]:
    listed = expect(*call(lb, "GET", "/events?limit=100", token=user["token"]), 200, "list")
    return [e["title"] for e in listed["data"]]


def standby_outcomes(metrics: list[str]) -> dict[str, int]:
    """db_standby_reads_total by outcome, summed over the processes."""
    totals: dict[str, int] = {}
    for url in metrics:
        with urllib.request.urlopen(url, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("db_standby_reads_total{"):
                    outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
                    totals[outcome] = totals.get(outcome, 0) + int(float(line.rsplit(" ", 1)[1]))
    return totals


class WritesAllTheWhile:
    """Another client committing on the primary every 2 ms, for as long as it is open (a minute
    at most): the primary's WAL position always moves, and the standby always trails it a
    little."""

    NAME = "scale_writer"
    # Two commands: a DO block commits only outside a transaction block (one -c each).
    SQL = ["-c", "CREATE TABLE IF NOT EXISTS scale_writes (n int)",
           "-c", "DO $$ BEGIN WHILE clock_timestamp() < now() + interval '60 s' LOOP "
                 "INSERT INTO scale_writes VALUES (1); COMMIT; PERFORM pg_sleep(0.002); "
                 "END LOOP; END $$"]

    def __init__(self, primary: str):
        self.primary = primary

    def __enter__(self):
        env = dict(os.environ, PGAPPNAME=self.NAME)
        self.writer = subprocess.Popen(["psql", self.primary, "-Xq", *self.SQL], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.3)
        if self.writer.poll() is not None:
            raise Failure(f"the writer stopped: {self.writer.stderr.read().decode()}")
        return self

    def __exit__(self, *_):
        # The server runs the loop on whether or not its client is there: end it there.
        psql(self.primary, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           f"WHERE application_name = '{self.NAME}'")
        self.writer.wait(timeout=10)


def standby_reads(lb: str, primary: str, standby: str, metrics: list[str]) -> str:
    olivia = register(lb, "Olivia")
    event(lb, olivia, title="First")
    deadline = time.monotonic() + 10
    while "First" not in list_titles(lb, olivia):
        if time.monotonic() > deadline:
            raise Failure("the first event never showed in the list")
    # The standby applies each commit 5 ms late (scale-test.sh), and the primary commits every
    # 2 ms: no read finds the standby caught up with the primary as of its authentication, and
    # each must wait for it (up to 10 ms) to be served there.
    with WritesAllTheWhile(primary) as writes:
        before = standby_outcomes(metrics)
        for _ in range(20):
            if list_titles(lb, olivia) != ["First"]:
                raise Failure("a list read lost the event")
        after = standby_outcomes(metrics)
        if writes.writer.poll() is not None:
            raise Failure("the writer stopped during the reads")
    served = after.get("served", 0) - before.get("served", 0)
    if served < 15:
        raise Failure(f"with the primary writing all the while, the standby served {served} of "
                      f"20 list reads ({before} -> {after})")
    # Replay paused: the standby lags; one's own writes still show, from the primary.
    psql(standby, "SELECT pg_wal_replay_pause()")
    try:
        for n in range(10):
            event(lb, olivia, title=f"Paused {n}")
            titles = list_titles(lb, olivia)
            if f"Paused {n}" not in titles:
                raise Failure(f"with replay paused, a list missed its own write: {titles}")
    finally:
        psql(standby, "SELECT pg_wal_replay_resume()")
    return (f"the standby 5 ms behind a primary committing every 2 ms served {served} of 20 "
            "list reads; "
            "with its replay paused, 10 writes each read back at once")


def standby_outage(lb: str, metrics: list[str], stop: str, start: str) -> str:
    olivia = register(lb, "Olivia")
    subprocess.run(stop, shell=True, check=True, capture_output=True)
    started = time.monotonic()
    try:
        for n in range(20):
            event(lb, olivia, title=f"Down {n}")
            if f"Down {n}" not in list_titles(lb, olivia):
                raise Failure("with the standby down, a list missed its own write")
        down_for = time.monotonic() - started
    finally:
        subprocess.run(start, shell=True, check=True, capture_output=True)
    # Back: after its rest, the standby serves list reads again.
    deadline = time.monotonic() + 30
    while True:
        before = standby_outcomes(metrics).get("served", 0)
        titles = list_titles(lb, olivia)
        if len(titles) != 20:
            raise Failure(f"after the standby came back, the list shows {len(titles)} of 20")
        if standby_outcomes(metrics).get("served", 0) > before:
            break
        if time.monotonic() > deadline:
            raise Failure("the standby did not serve reads again within 30 s of its return")
        time.sleep(0.5)
    return (f"standby stopped: 20 writes and reads all 2xx and current ({down_for:.1f} s); "
            "started again: it serves reads again")


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-XAtc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lb", required=True)
    parser.add_argument("--apps", required=True)
    parser.add_argument("--primary", required=True)
    parser.add_argument("--standby", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--standby-stop", required=True)
    parser.add_argument("--standby-start", required=True)
    args = parser.parse_args()
    apps = [a for a in args.apps.split(",") if a]
    metrics = [m for m in args.metrics.split(",") if m]
    checks = [
        lambda: seed_scenario(args.lb),
        lambda: answer_race(args.lb),
        lambda: capacity_race(args.lb),
        lambda: read_your_writes(args.lb),
        lambda: live_stream(apps),
        lambda: feed_gap_free(args.lb, args.primary, args.outbox),
        lambda: login_limit(args.lb),
        lambda: standby_reads(args.lb, args.primary, args.standby, metrics),
        lambda: standby_outage(args.lb, metrics, args.standby_stop, args.standby_start),
    ]
    started = time.monotonic()
    try:
        for check in checks:
            print(f"scale: {check()}", flush=True)
    except Failure as failure:
        print(f"scale: FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"scale: every check passed through HAProxy + PgBouncer (transaction mode) + 3 "
          f"processes + a streaming standby in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
