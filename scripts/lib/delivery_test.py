"""Webhooks and email end to end against the running binary, with real peers on loopback
(docs/api.md, "Webhooks" and "Email to invitees"; docs/operations.md, "Webhook and email
delivery").

Run by scripts/delivery-test.sh (`make test`) with pytest: BIN is the event-manager binary,
TEST_DATABASE_URL a PostgreSQL server to create databases on (the PostgreSQL cases fail without it
when CI is set, and are skipped otherwise).

The peers are not ours: each delivery's signature is verified with the `standardwebhooks` package
(the Standard Webhooks reference library), and the email is received by `aiosmtpd`. Retries are
tested with a short schedule set by configuration (WEBHOOK_RETRY_SCHEDULE), never by sleeping for
minutes.
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

BIN = os.environ["BIN"]
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, within=15.0, what="the condition"):
    """Polls `condition` until it returns something truthy; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        time.sleep(0.05)


# --- databases ---------------------------------------------------------------------------------


class Postgres:
    """A fresh database on TEST_DATABASE_URL's server, dropped at the end."""

    def __init__(self):
        base = os.environ["TEST_DATABASE_URL"]
        parts = urllib.parse.urlsplit(base)
        self.name = "delivery_" + uuid.uuid4().hex[:12]
        self.admin = base
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        self.psql("CREATE DATABASE " + self.name)

    def psql(self, sql, url=None):
        return subprocess.run(
            ["psql", url or self.admin, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            check=True, capture_output=True, text=True,
        ).stdout

    def drop(self):
        self.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "event-manager.sqlite3")
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        if os.environ.get("CI"):
            pytest.fail("CI needs TEST_DATABASE_URL for the PostgreSQL cases")
        pytest.skip("TEST_DATABASE_URL is not set")
    pg = Postgres()
    try:
        yield pg.url
    finally:
        pg.drop()


@pytest.fixture
def postgres():
    if not os.environ.get("TEST_DATABASE_URL"):
        if os.environ.get("CI"):
            pytest.fail("CI needs TEST_DATABASE_URL for the PostgreSQL cases")
        pytest.skip("TEST_DATABASE_URL is not set")
    pg = Postgres()
    try:
        yield pg.url
    finally:
        pg.drop()


# --- the service -------------------------------------------------------------------------------


class Service:
    """The binary on a free loopback port, stopped with SIGTERM at the end."""

    def __init__(self, database_url, **env):
        self.dir = tempfile.mkdtemp(prefix="delivery-test.")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        variables = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "DATABASE_URL": database_url,
            "BIND_ADDR": f"127.0.0.1:{self.port}",
            "HTTP_WORKERS": "2",
            "RUST_LOG": "info",
            "LOG_FORMAT": "json",
            "REGISTRATIONS_PER_ADDRESS": "0",
            "SEND_INVITATIONS_PER_USER": "0",
            "SEND_RECIPIENTS_PER_DAY": "0",
            "WEBHOOK_CREATIONS_PER_HOST_PER_HOUR": "0",
            "MESSAGES_PER_RECIPIENT_PER_DAY": "0",
            "WEBHOOK_ALLOW_PRIVATE": "true",
            "WEBHOOK_RETRY_SCHEDULE": "1s,1s,1s",
            "WEBHOOK_TIMEOUT_SECS": "2",
            # Contacts count as proven at once, unless a case asks for proofs.
            "CONTACT_VERIFICATION": "off",
            # Without SMTP_URL, invitation emails are written as files here.
            "OUTBOX_DIR": os.path.join(self.dir, "outbox"),
        }
        variables.update({k: str(v) for k, v in env.items()})
        self.log_path = os.path.join(self.dir, "server.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [BIN, "serve"], cwd=self.dir, env=variables, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health/ready", timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the service did not start:\n" + self.tail())
                time.sleep(0.1)

    def tail(self, lines=40):
        with open(self.log_path, "rb") as log:
            return b"\n".join(log.read().splitlines()[-lines:]).decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def call(self, method, path, body=None, token=None, expect=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "/api/v1" + path, method=method, data=data)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        answer = json.loads(raw) if raw else None
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {answer}"
        return status, answer

    def user(self, name, email=None, mobile=None, locale=None):
        body = {"name": name, "password": PASSWORD}
        if locale:
            body["locale"] = locale
        if email:
            body["email"] = email
        if mobile:
            body["mobile"] = mobile
        _, answer = self.call("POST", "/register", body, expect=201)
        return {"id": answer["data"]["user"]["id"], "token": answer["data"]["token"]}

    def event(self, owner, title="Launch party"):
        _, answer = self.call("POST", "/events", {"title": title}, owner["token"], expect=201)
        return answer["data"]["id"]

    def invite(self, sender, event, contacts, message=None):
        body = {"invitations": contacts}
        if message:
            body["message"] = message
        _, answer = self.call("POST", f"/{event}/send-invitations", body, sender["token"], expect=200)
        return answer["data"]["sent"]

    def hook(self, owner, url, events=None, active=True):
        """Registers a webhook; with `active`, waits until its endpoint has verified (the worker
        asks it at once), since nothing made before that reaches it."""
        body = {"url": url}
        if events is not None:
            body["events"] = events
        _, answer = self.call("POST", "/webhooks", body, owner["token"], expect=201)
        hook = answer["data"]
        assert hook["status"] == "pending_verification", hook
        if active:
            wait_for(
                lambda: self.call("GET", f"/webhooks/{hook['id']}", None, owner["token"])[1]["data"]["status"]
                == "active",
                what="the endpoint's verification",
            )
        return hook

    def attempts(self, owner, hook_id):
        _, answer = self.call("GET", f"/webhooks/{hook_id}/deliveries?limit=100", None, owner["token"], expect=200)
        return answer["data"]

    def feed(self, user):
        _, answer = self.call("GET", "/me/events?limit=100", None, user["token"], expect=200)
        return answer["data"]


@pytest.fixture
def services():
    started = []

    def start(database_url, **env):
        service = Service(database_url, **env)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


# --- the webhook receiver ----------------------------------------------------------------------


class Receiver:
    """An HTTP server on loopback. Each path answers from its script (a list of (status, delay,
    headers); 200 once it runs out), records every request, and verifies its signature with the
    Standard Webhooks library against the secret registered for the path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (path, headers, body, received_at, verified payload or None)
        self.scripts = {}
        self.secrets = {}
        self.in_flight = {}
        self.max_in_flight = {}
        self.challenges = []  # (path, headers, body) of each verification challenge
        self.no_echo = set()  # paths that answer challenges without echoing them
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if receiver.challenge(self, body, headers):
                    return
                message_id = headers.get("webhook-id", "")
                with receiver.lock:
                    key = (self.path, message_id)
                    receiver.in_flight[key] = receiver.in_flight.get(key, 0) + 1
                    receiver.max_in_flight[key] = max(
                        receiver.max_in_flight.get(key, 0), receiver.in_flight[key]
                    )
                    script = receiver.scripts.get(self.path, [])
                    status, delay, extra = script.pop(0) if script else (200, 0, {})
                    secret = receiver.secrets.get(self.path)
                verified = None
                if secret:
                    try:
                        verified = Webhook(secret).verify(body, headers)
                    except Exception:  # noqa: BLE001 - recorded as unverified
                        verified = None
                with receiver.lock:
                    receiver.requests.append((self.path, headers, body, time.monotonic(), verified))
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.in_flight[key] -= 1
                answer = f"status {status}".encode()
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up waiting (a timeout under test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def challenge(self, handler, body, headers):
        """Answers a verification challenge (echoing it, unless the path is told not to);
        `False` for anything else."""
        try:
            sent = json.loads(body)
        except ValueError:
            return False
        if not isinstance(sent, dict) or sent.get("type") != "webhook.verification":
            return False
        with self.lock:
            self.challenges.append((handler.path, headers, body))
            echo = handler.path not in self.no_echo
        answer = json.dumps({"challenge": sent["challenge"]} if echo else {"ok": True}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)
        return True

    def expect(self, path, secret, script=()):
        with self.lock:
            self.secrets[path] = secret
            self.scripts[path] = list(script)

    def at(self, path):
        with self.lock:
            return [r for r in self.requests if r[0] == path]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


# --- the mail server ---------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd on loopback, keeping every message; `delay` holds each DATA that long."""

    def __init__(self, delay=0.0):
        self.messages = []
        self.delay = delay
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if mailbox.delay:
                    import asyncio

                    await asyncio.sleep(mailbox.delay)
                mailbox.messages.append(
                    (envelope.mail_from, list(envelope.rcpt_tos),
                     message_from_bytes(envelope.content, policy=policy.default))
                )
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def close(self):
        self.controller.stop()


def text_of(message):
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def html_of(message):
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


# --- the cases ---------------------------------------------------------------------------------


def test_deliveries_are_signed_filtered_and_only_for_those_who_receive_the_change(
    database, services, receiver
):
    service = services(database)
    ann = service.user("Ann", email="ann@example.com")
    bob = service.user("Bob", email="bob@example.com")
    zed = service.user("Zed", email="zed@example.com")
    hooks = {
        "/ann": service.hook(ann, receiver.url + "/ann"),
        "/bob": service.hook(bob, receiver.url + "/bob", ["invitation.accepted"]),
        "/zed": service.hook(zed, receiver.url + "/zed"),
    }
    for path, hook in hooks.items():
        receiver.expect(path, hook["secret"])
    event = service.event(ann)
    invitation = service.invite(ann, event, ["bob@example.com"])[0]
    service.call("PATCH", f"/invitations/{invitation['id']}", {"status": "accepted"}, bob["token"], expect=200)

    wait_for(lambda: len(receiver.at("/ann")) >= 3, what="Ann's three deliveries")
    wait_for(lambda: receiver.at("/bob"), what="Bob's delivery")
    time.sleep(1.5)  # anything else would have come by now
    ann_got = receiver.at("/ann")
    # Order per endpoint is not promised; each change once is.
    assert sorted(json.loads(r[2])["type"] for r in ann_got) == [
        "invitation.accepted", "invitation.created", "member.joined",
    ]
    assert len(ann_got) == 3
    assert [json.loads(r[2])["type"] for r in receiver.at("/bob")] == ["invitation.accepted"]
    assert receiver.at("/zed") == [], "R12: a stranger's webhook learns nothing"

    feed = {change["id"]: change for change in service.feed(ann)}
    for path, headers, body, _, verified in ann_got + receiver.at("/bob"):
        assert verified is not None, f"the signature of {path} must verify with standardwebhooks"
        change = json.loads(body)
        assert headers["webhook-id"] == str(change["id"])
        assert headers["content-type"].startswith("application/json")
        assert headers["user-agent"].startswith("EventManager-Webhooks/")
        if path == "/ann":
            assert change == feed[change["id"]], "the body is the change exactly as the feed shows it"
    attempts = service.attempts(ann, hooks["/ann"]["id"])
    assert sorted(a["event"]["type"] for a in attempts) == sorted(
        ["invitation.created", "invitation.accepted", "member.joined"]
    )
    assert all(a["outcome"] == "delivered" and a["status_code"] == 200 for a in attempts)


def stored(database, sql):
    """The first column of `sql`'s rows, read from the service's database (SQLite or PostgreSQL)."""
    if database.startswith("postgres"):
        out = subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                             check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]
    import sqlite3
    with sqlite3.connect(database.removeprefix("sqlite://")) as db:
        return [str(row[0]) for row in db.execute(sql)]


def test_a_change_to_ten_webhooks_is_stored_once_and_each_gets_it_signed(database, services, receiver):
    service = services(database)
    ann = service.user("Ann", email="ann@example.com")
    service.user("Bob", email="bob@example.com")
    hooks = [service.hook(ann, f"{receiver.url}/h{n}", ["invitation.created"]) for n in range(10)]
    for n, hook in enumerate(hooks):
        receiver.expect(f"/h{n}", hook["secret"])
    event = service.event(ann)
    service.invite(ann, event, ["bob@example.com"], message="x" * 500)
    wait_for(lambda: all(receiver.at(f"/h{n}") for n in range(10)), what="ten deliveries")
    bodies = {receiver.at(f"/h{n}")[0][2] for n in range(10)}
    assert len(bodies) == 1, "every webhook got the same change"
    assert all(receiver.at(f"/h{n}")[0][4] is not None for n in range(10)), "each signed with its own secret"
    kept = stored(database, "SELECT payload FROM change_payloads")
    own = stored(database, "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM deliveries WHERE webhook_id IS NOT NULL")
    print(f"\n{len(kept)} payload kept ({len(kept[0])} bytes) for 10 deliveries, {own[0]} bytes in them")
    assert len(kept) == 1 and kept[0].encode() == next(iter(bodies)), "one payload, the body sent"
    assert own == ["0"], "no copy per delivery"


def test_a_failed_delivery_is_retried_with_the_same_webhook_id(database, services, receiver):
    service = services(database)
    ann = service.user("Ann", email="ann@example.com")
    service.user("Bob", email="bob@example.com")
    hook = service.hook(ann, receiver.url + "/flaky", ["invitation.created"])
    receiver.expect("/flaky", hook["secret"], [(500, 0, {}), (503, 0, {})])
    event = service.event(ann)
    service.invite(ann, event, ["bob@example.com"])

    got = wait_for(lambda: len(receiver.at("/flaky")) >= 3 and receiver.at("/flaky"), what="two retries")
    ids = {r[1]["webhook-id"] for r in got}
    assert len(ids) == 1, "webhook-id is stable across retries"
    assert all(r[4] is not None for r in got), "every attempt is signed anew and verifies"
    assert got[1][3] - got[0][3] >= 0.7, "the schedule's 1 s (±20 %) between attempts"
    attempts = wait_for(lambda: (a := service.attempts(ann, hook["id"])) and len(a) == 3 and a)
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in attempts] == [
        (3, 200, "delivered"), (2, 503, "retrying"), (1, 500, "retrying"),
    ]
    assert attempts[2]["response_body"] == "status 500"
    _, shown = service.call("GET", f"/webhooks/{hook['id']}", None, ann["token"], expect=200)
    assert shown["data"]["status"] == "active"


def test_a_410_disables_the_webhook_at_once(database, services, receiver):
    service = services(database)
    ann = service.user("Ann", email="ann@example.com")
    for name in ("Bob", "Carol"):
        service.user(name, email=f"{name.lower()}@example.com")
    hook = service.hook(ann, receiver.url + "/gone", ["invitation.created"])
    receiver.expect("/gone", hook["secret"], [(410, 0, {})])
    event = service.event(ann)
    service.invite(ann, event, ["bob@example.com"])
    wait_for(lambda: receiver.at("/gone"), what="the first delivery")
    shown = wait_for(
        lambda: (s := service.call("GET", f"/webhooks/{hook['id']}", None, ann["token"])[1]["data"])
        and s["status"] == "disabled" and s
    )
    assert shown["disabled_reason"] == "gone"
    service.invite(ann, event, ["carol@example.com"])
    time.sleep(2.5)
    assert len(receiver.at("/gone")) == 1, "nothing more after a 410"
    assert service.attempts(ann, hook["id"])[0]["outcome"] == "disabled"


def test_a_timeout_fails_the_attempt_and_retry_after_is_honoured(services, receiver, tmp_path):
    service = services(str(tmp_path / "db.sqlite3"))
    ann = service.user("Ann", email="ann@example.com")
    service.user("Bob", email="bob@example.com")
    hook = service.hook(ann, receiver.url + "/slow", ["invitation.created"])
    # Longer than WEBHOOK_TIMEOUT_SECS (2), then 429 asking for 3 s, then fine.
    receiver.expect("/slow", hook["secret"], [(200, 3.5, {}), (429, 0, {"Retry-After": "3"})])
    event = service.event(ann)
    service.invite(ann, event, ["bob@example.com"])
    got = wait_for(lambda: len(receiver.at("/slow")) >= 3 and receiver.at("/slow"), within=20)
    assert got[2][3] - got[1][3] >= 2.9, "Retry-After: 3 beats the schedule's 1 s"
    attempts = service.attempts(ann, hook["id"])
    first = attempts[-1]
    assert first["status_code"] is None and "timed out" in first["error"], first
    assert first["duration_ms"] < 3000
    assert [a["outcome"] for a in attempts] == ["delivered", "retrying", "retrying"]


def test_a_webhook_receives_nothing_until_its_endpoint_echoes_the_signed_challenge(
    database, services, receiver
):
    service = services(database)
    ann = service.user("Ann", email="ann@example.com")
    service.user("Bob", email="bob@example.com")
    service.user("Carol", email="carol@example.com")
    receiver.no_echo.add("/shy")
    hook = service.hook(ann, receiver.url + "/shy", ["invitation.created"], active=False)
    receiver.expect("/shy", hook["secret"])
    first = wait_for(lambda: [c for c in receiver.challenges if c[0] == "/shy"], what="a challenge")
    _, headers, body = first[0]
    challenge = Webhook(hook["secret"]).verify(body, headers)
    assert challenge["type"] == "webhook.verification" and challenge["challenge"], challenge
    event = service.event(ann)
    service.invite(ann, event, ["bob@example.com"])
    time.sleep(1.5)
    assert receiver.at("/shy") == [], "nothing for an endpoint that has not echoed"
    _, shown = service.call("GET", f"/webhooks/{hook['id']}", None, ann["token"], expect=200)
    assert shown["data"]["status"] == "pending_verification"
    # Told to echo, and asked again on request: active, and the changes after it arrive.
    receiver.no_echo.discard("/shy")
    _, asked = service.call("POST", f"/webhooks/{hook['id']}/verify", None, ann["token"], expect=202)
    assert asked["data"]["status"] == "pending_verification"
    wait_for(lambda: service.call("GET", f"/webhooks/{hook['id']}", None, ann["token"])[1]["data"]["status"]
             == "active", what="the verification")
    service.invite(ann, event, ["carol@example.com"])
    got = wait_for(lambda: receiver.at("/shy"), what="a delivery once verified")
    time.sleep(1.0)
    got = receiver.at("/shy")
    assert len(got) == 1, "the change made while it was pending is not replayed"
    assert b"carol@example.com" in got[0][2] and b"bob@example.com" not in got[0][2], got[0][2]
    print(f"\n{len(receiver.challenges)} challenges; delivered once verified, nothing before")


class Tarpit:
    """A TCP endpoint that echoes verification challenges (so that it is a verified webhook) and
    then takes every delivery's request and never answers, nor closes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.held = []
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            while len(body) < length:
                body += conn.recv(65536)
            sent = json.loads(body)
            if sent.get("type") == "webhook.verification":
                answer = json.dumps({"challenge": sent["challenge"]}).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: " + str(len(answer)).encode()
                             + b"\r\n\r\n" + answer)
                conn.close()
                return
        except (OSError, ValueError, AttributeError):
            return
        self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_one_users_webhooks_at_a_tarpit_never_delay_anyone_elses_webhook_or_email(
    database, services, receiver
):
    """Fair claiming: emails have slots of their own, one owner's webhooks hold at most their
    share, owners take turns, and each endpoint's breaker opens after 5 unanswered attempts; on
    PostgreSQL with two processes sharing the work."""
    tarpit, mailbox = Tarpit(), Mailbox()
    try:
        env = {"SMTP_URL": mailbox.url, "SMTP_FROM": "no-reply@example.com", "WEBHOOK_TIMEOUT_SECS": "5"}
        processes = [services(database, **env)]
        if database.startswith("postgres"):
            processes.append(services(database, **env))
        first = processes[0]
        evil = first.user("Evil", email="evil@example.com")
        ann = first.user("Ann", email="ann@example.com")
        first.user("Bob", email="bob@example.com")
        for n in range(10):
            first.user(f"Guest {n}", email=f"guest{n}@example.com")
        for _ in range(10):
            first.hook(evil, f"http://127.0.0.1:{tarpit.port}/never", ["invitation.created"])
        hook = first.hook(ann, receiver.url + "/ann", ["invitation.created"])
        receiver.expect("/ann", hook["secret"])
        for n in range(10):
            by = processes[n % len(processes)]
            by.invite(evil, by.event(evil, f"Spam {n}"), [f"guest{n}@example.com"])
        wait_for(lambda: len(tarpit.held) >= 8, what="the tarpit holding deliveries")
        started = time.monotonic()
        event = first.event(ann)
        first.invite(ann, event, ["bob@example.com"])
        wait_for(lambda: receiver.at("/ann"), within=15, what="Ann's webhook")
        webhook_lag = receiver.at("/ann")[0][3] - started
        wait_for(lambda: any("bob@example.com" in m[1] for m in mailbox.messages), within=15,
                 what="Bob's email")
        email_lag = time.monotonic() - started
        print(f"\nbeside 10 webhooks at a tarpit ({len(tarpit.held)} connections held, "
              f"{len(processes)} process(es)): Ann's webhook {webhook_lag * 1000:.0f} ms, "
              f"Bob's email {email_lag * 1000:.0f} ms")
        # The tarpit's attempts each take the whole 5 s: anything queued behind them would too.
        assert webhook_lag < 2.0, webhook_lag
        assert email_lag < 2.0, email_lag
    finally:
        tarpit.close()
        mailbox.close()


def test_two_processes_never_attempt_one_delivery_at_once(postgres, services, receiver):
    debug = {"RUST_LOG": "info,app::deliveries=debug"}
    first = services(postgres, **debug)
    second = services(postgres, **debug)
    ann = first.user("Ann", email="ann@example.com")
    guests = [first.user(f"Guest {i}", email=f"guest{i}@example.com") for i in range(24)]
    hook = first.hook(ann, receiver.url + "/both", ["invitation.created"])
    # Every answer is slow, so that both processes' workers have deliveries in flight at once.
    receiver.expect("/both", hook["secret"], [(200, 0.3, {})] * 100)
    for i, guest in enumerate(guests):
        by = first if i % 2 else second
        event = by.event(ann, f"Party {i}")
        by.invite(ann, event, [f"guest{i}@example.com"])
    got = wait_for(lambda: len(receiver.at("/both")) >= 24 and receiver.at("/both"), within=30)
    time.sleep(1.5)
    got = receiver.at("/both")
    ids = [r[1]["webhook-id"] for r in got]
    assert len(ids) == 24 and len(set(ids)) == 24, f"each change delivered once: {sorted(ids)}"
    assert max(receiver.max_in_flight[("/both", i)] for i in ids) == 1
    assert all(r[4] is not None for r in got)
    by_process = []
    for service in (first, second):
        with open(service.log_path, "rb") as log:
            # The invitation emails, written to the outbox, are deliveries too: webhooks' only.
            by_process.append(sum(
                1 for line in log
                if b'"message":"delivered"' in line and b'"channel":"webhook"' in line
            ))
    print(f"deliveries made by each process: {by_process} (of 24)")
    assert sum(by_process) == 24


def test_an_invitee_reached_by_email_gets_an_email_and_a_reminder(database, services, tmp_path):
    mailbox = Mailbox()
    try:
        service = services(
            database, SMTP_URL=mailbox.url, SMTP_FROM="Event Manager <no-reply@example.com>"
        )
        ann = service.user("Ann <Organizer>", email="ann@example.com")
        service.user("Bob", email="bob@example.com")
        service.user("Sara", mobile="09352864812")
        event = service.event(ann, "Launch <party>")
        sent = service.invite(ann, event, ["Bob@Example.com", "09352864812"], message="Rooftop at 8 & bring snacks")
        bobs = next(s for s in sent if s["contact"] == "Bob@Example.com")
        mail = wait_for(lambda: mailbox.messages, what="the invitation email")
        time.sleep(1.0)
        assert len(mailbox.messages) == 1, "none for the invitee reached by mobile"
        mail_from, recipients, message = mail[0]
        assert recipients == ["bob@example.com"]
        assert mail_from == "no-reply@example.com"
        text, html = text_of(message), html_of(message)
        assert "Launch <party>" in message["Subject"] or "Launch <party>" in text
        for needle in ("Ann <Organizer>", "Launch <party>", "Rooftop at 8 & bring snacks", bobs["id"]):
            assert needle in text, f"{needle!r} in the text part"
        assert "Launch &lt;party&gt;" in html and "<party>" not in html, "the HTML escapes user text"
        assert "Answer by" in text
        service.call("POST", f"/invitations/{bobs['id']}/resend", None, ann["token"], expect=200)
        wait_for(lambda: len(mailbox.messages) == 2, what="the reminder")
        assert mailbox.messages[1][1] == ["bob@example.com"]
    finally:
        mailbox.close()


def test_a_persian_reader_gets_a_persian_right_to_left_email_with_both_dates(database, services):
    """docs/api.md, "Languages": the invitee's locale writes the email, subject to HTML."""
    mailbox = Mailbox()
    try:
        service = services(
            database, SMTP_URL=mailbox.url, SMTP_FROM="Event Manager <no-reply@example.com>"
        )
        ann = service.user("Ann", email="ann@example.com")
        service.user("Reza", email="reza@example.com", locale="fa")
        # 2027-01-15 14:30 UTC is 18:00 in Tehran: Friday 25 Dey 1405.
        _, made = service.call(
            "POST", "/events",
            {"title": "Launch party", "starts_at": "2027-01-15T14:30:00Z",
             "time_zone": "Asia/Tehran"},
            ann["token"], expect=201,
        )
        service.invite(ann, made["data"]["id"], ["reza@example.com"], message="See you there")
        mail = wait_for(lambda: mailbox.messages, what="the Persian invitation email")
        _, recipients, message = mail[0]
        assert recipients == ["reza@example.com"]
        assert message["Subject"] == "Ann شما را به Launch party دعوت کرده است", message["Subject"]
        text, html = text_of(message).replace("\r\n", "\n"), html_of(message)
        assert text.startswith("سلام Reza،\n"), text
        assert "Ann شما را به «Launch party» دعوت کرده است." in text, text
        assert "Ann نوشته است:\n> See you there" in text, text
        assert " (Asia/Tehran) پاسخ دهید." in text and "۱۴۰" in text, text
        assert '<html lang="fa" dir="rtl">' in html, html
        assert "Answer" not in text and "Hello" not in text, text
        calendar = next(
            (p for p in message.walk() if p.get_content_type() == "text/calendar"), None
        )
        assert calendar is not None, "the calendar entry rides along in any language"
    finally:
        mailbox.close()


def test_a_reminder_reaches_its_invitee_through_the_mail_server_once(database, services):
    mailbox = Mailbox()
    try:
        service = services(
            database,
            SMTP_URL=mailbox.url,
            SMTP_FROM="Event Manager <no-reply@example.com>",
            REMINDER_SWEEP_INTERVAL_SECS="1",
        )
        ann = service.user("Ann", email="ann@example.com")
        service.user("Bob", email="bob@example.com")
        # Its 5-minute reminder falls due 8 seconds from now.
        starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300 + 8))
        _, made = service.call(
            "POST",
            "/events",
            {
                "title": "Standup",
                "location": "Room 4",
                "starts_at": starts,
                "time_zone": "Asia/Tehran",
                "reminders": [{"before": "5m", "to": "pending"}],
            },
            ann["token"],
            expect=201,
        )
        service.invite(ann, made["data"]["id"], ["bob@example.com"])

        def reminders():
            return [m for m in mailbox.messages if m[2]["Subject"] == "Reminder: Standup"]

        wait_for(reminders, within=30, what="the reminder")
        time.sleep(3)  # a few more sweeps: still one
        sent = reminders()
        assert len(sent) == 1, sent
        _, recipients, message = sent[0]
        assert recipients == ["bob@example.com"]
        text = text_of(message)
        assert "Hello Bob," in text
        assert '"Standup" starts in 5 minutes.' in text, text
        assert "(Asia/Tehran)" in text and "Room 4" in text, text
    finally:
        mailbox.close()


def test_a_promoted_invitee_is_told_by_email_and_the_hosts_webhook_says_promoted(
    database, services, receiver
):
    """A seat freed by a departure goes to the first in the waitlist: a signed webhook delivery
    of `invitation.accepted` with `"promoted": true`, and an email to the invitee through a real
    SMTP server (docs/api.md, "Capacity and the waitlist")."""
    mailbox = Mailbox()
    try:
        service = services(database, SMTP_URL=mailbox.url, SMTP_FROM="no-reply@example.com")
        olivia = service.user("Olivia", email="olivia@example.com")
        sara = service.user("Sara", email="sara@example.com")
        bob = service.user("Bob", email="bob@example.com")
        hook = service.hook(olivia, receiver.url + "/olivia", ["invitation.accepted"])
        receiver.expect("/olivia", hook["secret"])
        _, created = service.call(
            "POST", "/events", {"title": "Supper <club>", "capacity": 1}, olivia["token"], expect=201
        )
        event = created["data"]["id"]
        sent = service.invite(olivia, event, ["sara@example.com", "bob@example.com"])
        saras, bobs = sent[0], sent[1]
        service.call("PATCH", f"/invitations/{saras['id']}", {"status": "accepted"}, sara["token"], expect=200)
        _, waiting = service.call(
            "PATCH", f"/invitations/{bobs['id']}", {"status": "accepted"}, bob["token"], expect=200
        )
        assert waiting["data"]["status"] == "waitlisted"
        assert waiting["data"]["waitlist_position"] == 1
        wait_for(lambda: len(mailbox.messages) == 2, what="the two invitation emails")
        service.call("DELETE", f"/events/{event}/members/{sara['id']}", None, sara["token"], expect=204)

        def promotion():
            return [m for m in mailbox.messages if "A seat opened up" in m[2]["Subject"]]

        mail = wait_for(promotion, what="the promotion email")
        _, recipients, message = mail[0]
        assert recipients == ["bob@example.com"]
        text, html = text_of(message), html_of(message)
        assert "Supper <club>" in text and bobs["id"] in text
        assert "Supper &lt;club&gt;" in html and "<club>" not in html
        wait_for(lambda: len(receiver.at("/olivia")) >= 2, what="both acceptances")
        time.sleep(1.0)
        bodies = [json.loads(r[2]) for r in receiver.at("/olivia")]
        assert all(r[4] is not None for r in receiver.at("/olivia")), "every delivery is signed"
        promoted = {b["data"]["invitee"]["name"]: b["promoted"] for b in bodies}
        assert promoted == {"Sara": False, "Bob": True}
        _, bob_now = service.call("GET", f"/invitations/{bobs['id']}", None, bob["token"], expect=200)
        assert bob_now["data"]["status"] == "accepted"
    finally:
        mailbox.close()


def code_in(message):
    """The 6 digits of a code message."""
    found = re.search(r"code: (\d{6})", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def test_an_impostor_never_sees_the_invitation_and_the_owner_proves_the_address_by_smtp(
    database, services
):
    mailbox = Mailbox()
    try:
        service = services(
            database,
            SMTP_URL=mailbox.url,
            SMTP_FROM="no-reply@example.com",
            CONTACT_VERIFICATION="required",
        )
        impostor = service.user("Mallory", email="ceo@bigcorp.example")
        olivia = service.user("Olivia", email="olivia@example.com")
        event = service.event(olivia, "Board meeting")
        sent = service.invite(olivia, event, ["ceo@bigcorp.example"])
        assert len(sent) == 1
        _, received = service.call("GET", "/received-invitations", None, impostor["token"], expect=200)
        assert received["data"] == []
        owner = service.user("Ceo", email="ceo@bigcorp.example")
        # Two codes went to the address (one per account), and the invitation's email.
        def codes_to_the_address():
            found = [
                code_in(message)
                for (_, rcpt, message) in mailbox.messages
                if rcpt == ["ceo@bigcorp.example"] and "code" in message["Subject"]
            ]
            return found if len(found) >= 2 else None

        codes = wait_for(codes_to_the_address, what="both codes")
        proven = None
        for code in codes:
            status, answer = service.call(
                "POST", "/me/verifications/confirm", {"channel": "email", "code": code}, owner["token"]
            )
            if status == 200:
                proven = answer["data"]
                break
            assert status == 422, answer
        assert proven and proven["email_verified_at"], "one of the codes is the owner's"
        _, received = service.call("GET", "/received-invitations", None, owner["token"], expect=200)
        assert [i["id"] for i in received["data"]] == [sent[0]["id"]]
        _, me = service.call("GET", "/me", None, impostor["token"], expect=200)
        assert me["data"]["email"] is None
        # A login code reaches the proven address, by the same mail server.
        before = len(mailbox.messages)
        service.call("POST", "/login/code", {"login": "ceo@bigcorp.example"}, expect=202)
        message = wait_for(
            lambda: mailbox.messages[before:] or None, what="the login code"
        )[0][2]
        service.call(
            "POST", "/login", {"login": "ceo@bigcorp.example", "code": code_in(message)}, expect=200
        )
    finally:
        mailbox.close()


def test_a_slow_mail_server_never_slows_the_send(services, tmp_path):
    mailbox = Mailbox(delay=4.0)
    try:
        service = services(
            str(tmp_path / "db.sqlite3"), SMTP_URL=mailbox.url, SMTP_FROM="no-reply@example.com"
        )
        ann = service.user("Ann", email="ann@example.com")
        service.user("Bob", email="bob@example.com")
        event = service.event(ann)
        started = time.monotonic()
        service.invite(ann, event, ["bob@example.com"])
        took = time.monotonic() - started
        assert took < 1.0, f"the send took {took:.2f} s"
        wait_for(lambda: mailbox.messages, within=15, what="the email, late")
        print(f"send answered in {took * 1000:.0f} ms; the mail server took 4 s")
    finally:
        mailbox.close()


def test_by_default_webhooks_cannot_point_at_private_addresses(services, receiver, tmp_path):
    service = services(str(tmp_path / "db.sqlite3"), WEBHOOK_ALLOW_PRIVATE="false")
    ann = service.user("Ann", email="ann@example.com")
    for url in (receiver.url + "/x", receiver.url.replace("http", "https") + "/x",
                "https://localhost/x", "https://[::1]/x"):
        status, answer = service.call("POST", "/webhooks", {"url": url}, ann["token"])
        assert status == 422, (url, answer)
    assert receiver.requests == []
