#!/usr/bin/env python3
"""The FastAPI peer of the read scenario: `GET /api/v1/received-invitations?status=pending` as a
typical Python service answers it, for the bench's "service ÷ FastAPI peer" ratio.

Why: pgbench's ceiling (bench/pgbench-read.sql) says how close the service comes to what the
database can do; it does not say how the service compares with what a team would otherwise
write. The peer is that other service: FastAPI on uvicorn (uvloop and httptools, the
`uvicorn[standard]` deployment), one worker process per core, an asyncpg pool in each, and the
same two statements the ceiling runs, so the difference is the stack, not the SQL.

What it does for one request, as the service does for a request of the bench:
  1. reads `Authorization: Bearer <token>`, SHA-256s the token and looks it up with the first
     statement of bench/pgbench-read.sql (401 `{"message": "Unauthenticated."}` with the service's
     `WWW-Authenticate` challenge when no live token matches);
  2. lists the caller's invitations with the second statement (status from `status`, `pending`
     when absent; 50 and one to tell whether there is more; expiry as of now);
  3. answers the service's JSON (crates/http-actix: `Paginated<InvitationBody>`, timestamps as
     RFC 3339 UTC whole seconds with a `Z`), returned as a dict the way FastAPI apps do (its
     jsonable_encoder and JSONResponse), with the service's signed cursor: HMAC-SHA256 over the
     same parts under the key the service keeps in the database, so the peer's `next_cursor` is
     the service's byte for byte.
The statements are read from bench/pgbench-read.sql at startup (pgbench variables and the
`/* bind */` expressions become $n binds), so the peer sends what the ceiling sends, and the
ceiling is held to the service's SQL by a test. Unlike the service, the peer has no token cache:
it sends both statements every request (the service, finding the bench's tokens in its cache,
sends the second only); that is what a typical FastAPI service does.

Not modelled: `cursor` and `limit` (the bench reads first pages of 50 only), `event_id`, and the
statuses the statement does not serve (the service sends other SQL for `all`, the default there,
and for answered, cancelled or expired lists): those get a 422 from the peer.

Use from bench/run.py (which runs under the system python; this module imports only the standard
library at the top, FastAPI and asyncpg only inside the app factory that uvicorn calls):
    python = peer.ensure_venv(OUT)
    p = peer.Peer(python, database_url, OUT / "peer.log")
    ... wrk against p.url ...
    p.stop()
Smoke check: `python3 bench/peer.py postgres://postgres@127.0.0.1:5432/DB?sslmode=disable` starts
the peer on a seeded database and prints its answer for `bench-token-1`.
"""

import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
READ_SQL = BENCH / "pgbench-read.sql"

# What a typical FastAPI deployment runs: uvicorn[standard] brings uvloop (the event loop) and
# httptools (the HTTP parser), which uvicorn picks over asyncio and h11 when present; plain uvicorn
# would measure the slower pure-Python pair, which production images do not ship. Pinned so that
# the peer's numbers compare across runs; raise the pins deliberately.
REQUIREMENTS = ["fastapi==0.165.0", "uvicorn[standard]==0.55.0", "asyncpg==0.32.0"]

# The page the bench reads: the service's default limit, fetched with one more row to tell
# whether there is a next page (domain::Page::from_overfetched).
PAGE = 50
# The statuses the list statement serves as it is (`status = $n` and not expired as of now); the
# service sends other SQL for the rest (adapters-diesel, invitations/queries.rs).
OPEN = ("pending", "tentative")

# The service's 401 (crates/http-actix/src/error/mod.rs): the body, and the challenge for no
# bearer token and for a bad one (RFC 6750).
UNAUTHENTICATED = {"message": "Unauthenticated."}
CHALLENGE = 'Bearer realm="event-manager"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="event-manager", error="invalid_token"'

# The service's cursors (crates/http-actix/src/pagination.rs): a version byte, the last item's id
# and 16 bytes of an HMAC-SHA256 bound to the caller, the list and its filters, under the key the
# service's processes share through service_secrets (adapters-diesel, secrets.rs).
CURSOR_VERSION = 2
CURSOR_TAG_LEN = 16
CURSOR_KEY_NAME = "cursor-signing-key"
RECEIVED_LIST = b"received-invitations"

# The list statement's columns the body is made of, by position (names repeat: id, title, name),
# with the name each must have; checked once per worker against the prepared statement.
COLUMNS = dict(id=(0, "id"), event_id=(1, "event_id"), contact=(4, "contact"), status=(5, "status"),
               created_at=(6, "created_at"), answered_at=(7, "answered_at"), message=(8, "message"),
               expires_at=(9, "expires_at"), cancelled_at=(10, "cancelled_at"), guests=(14, "guests"),
               comment=(15, "comment"), event_title=(16, "title"), invitee_title=(17, "title"),
               sender_id=(18, "id"), sender_name=(19, "name"), invitee_id=(20, "id"), invitee_name=(21, "name"),
               event_deleted=(22, "exists"))
C = {key: position for key, (position, _) in COLUMNS.items()}


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ensure_venv(out_dir: Path) -> Path:
    """The peer's virtualenv, out_dir/peer-venv, made and filled from PyPI on first use (and again
    when REQUIREMENTS change); returns its python."""
    venv = Path(out_dir) / "peer-venv"
    python = venv / "bin" / "python"
    marker = venv / "peer-requirements.txt"
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        log(f"creating the FastAPI peer's virtualenv ({venv})")
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log(f"installing {', '.join(REQUIREMENTS)} (PyPI)")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
                   check=True)
    marker.write_text(wanted)
    return python


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peer:
    """The peer under uvicorn on a database: `workers` processes on one port (uvicorn's own
    supervisor), each with an asyncpg pool of `pool_size` connections (2 × 5 by default: the
    service's pool of 10). Ready once every worker has opened its pool and /health/ready answers."""

    def __init__(self, python: Path, database_url: str, log_path: Path, workers: int = 2, pool_size: int = 5):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "w")
        # Each worker leaves a file named by its pid here once its pool is open (see lifespan).
        self.ready_dir = Path(tempfile.mkdtemp(prefix="em-peer-"))
        env = dict(os.environ, PEER_DATABASE_URL=database_url, PEER_POOL_SIZE=str(pool_size),
                   PEER_READY_DIR=str(self.ready_dir))
        # --factory: uvicorn calls create_app() in each worker, so that importing this module
        # (from run.py, under the system python) needs neither FastAPI nor asyncpg.
        cmd = [str(python), "-m", "uvicorn", "peer:create_app", "--factory", "--app-dir", str(BENCH),
               "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
               "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            if self.process.poll() is not None:
                self._clean_up()
                raise SystemExit(f"bench: the FastAPI peer stopped before it was ready "
                                 f"(exit {self.process.returncode}; see {log_path})")
            if len(self.worker_pids()) >= workers:
                try:
                    with urllib.request.urlopen(f"{self.url}/health/ready", timeout=1) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"bench: the FastAPI peer did not become ready (see {log_path})")

    def worker_pids(self):
        """The pids of the workers that have opened their pools."""
        return [int(p.name) for p in self.ready_dir.iterdir() if p.name.isdigit()]

    def stop(self):
        # SIGTERM to uvicorn's supervisor stops its workers and waits for them; should it hang,
        # the supervisor and the workers (by the pids they left) are killed.
        workers = self.worker_pids()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log("the FastAPI peer did not stop in 30 s: killing it")
            self.process.kill()
            self.process.wait()
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._clean_up()

    def _clean_up(self):
        self.log.close()
        shutil.rmtree(self.ready_dir, ignore_errors=True)


# --- The statements -------------------------------------------------------------------------------

# `/* bind */ f(...)` in pgbench-read.sql: a value the service binds and pgbench computes; the
# function names which of the request's values it is.
BIND_VALUES = {"sha256": "token_hash", "now": "now"}


def statements():
    """The two statements of bench/pgbench-read.sql as asyncpg runs them: [(sql, names)], where
    names[i] is the request value bound to $i+1 (a pgbench variable's name, such as `one`, `id`
    or `status`, or BIND_VALUES's name for a `/* bind */` expression)."""
    lines = [line for line in READ_SQL.read_text().splitlines()
             if not line.lstrip().startswith(("--", "\\"))]
    found = []
    for text in re.split(r"\\gset|;", "\n".join(lines)):
        if not text.strip():
            continue
        names = []

        def bind(name):
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        # `/* bind */ name(...)`, up to its closing parenthesis.
        while (start := text.find("/* bind */")) >= 0:
            call = re.compile(r"\s*(\w+)\(").match(text, start + len("/* bind */"))
            if call is None or call.group(1) not in BIND_VALUES:
                raise SystemExit(f"bench: {READ_SQL.name}: a /* bind */ the peer does not know: "
                                 f"{text[start:start + 60]!r}")
            depth, end = 1, call.end()
            while depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            text = text[:start] + bind(BIND_VALUES[call.group(1)]) + text[end:]
        # pgbench variables (`:name`, not a `::` cast).
        text = re.sub(r"(?<!:):([A-Za-z_]\w*)", lambda m: bind(m.group(1)), text)
        found.append((" ".join(text.split()), names))
    if len(found) != 2:
        raise SystemExit(f"bench: {READ_SQL.name}: expected two statements, found {len(found)}")
    return found


def binds(names, **values):
    return [values[name] for name in names]


# --- The answer ---------------------------------------------------------------------------------


def timestamp(at):
    """`2026-11-26T10:00:00Z`, or None (crates/http-actix/src/json.rs)."""
    return None if at is None else at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def invitation_body(row, now):
    """One item as the service's `InvitationBody` (crates/http-actix/src/api/invitations/
    responses.rs), keys in its order."""
    status, expires_at, answered_at = row[C["status"]], row[C["expires_at"]], row[C["answered_at"]]
    # As of now (Invitation::as_of): an open invitation past its expiry is expired, and an expired
    # one has no answer. The statement already leaves those out; kept for the body's sake.
    if status in OPEN and expires_at is not None and expires_at <= now:
        status, answered_at = "expired", None
    # The invitee's list shows the title as the invitee may know it (as_seen_by_invitee): the one
    # frozen when they lost access to the event, if any, else the event's.
    title = row[C["invitee_title"]]
    return {
        "id": str(row[C["id"]]),
        "event": {"id": str(row[C["event_id"]]), "title": row[C["event_title"]] if title is None else title,
                  "deleted": row[C["event_deleted"]]},
        "sender": {"id": str(row[C["sender_id"]]), "name": row[C["sender_name"]]},
        "invitee": {"id": str(row[C["invitee_id"]]), "name": row[C["invitee_name"]]},
        "contact": row[C["contact"]],
        "status": status,
        "message": row[C["message"]],
        "guests": row[C["guests"]],
        "comment": row[C["comment"]],
        # Set for waitlisted invitations only, which these statuses never are.
        "waitlist_position": None,
        "created_at": timestamp(row[C["created_at"]]),
        "expires_at": timestamp(expires_at),
        "answered_at": timestamp(answered_at),
        "cancelled_at": timestamp(row[C["cancelled_at"]]),
    }


def _update_part(mac, part: bytes):
    """One variable-length part, prefixed with its length as the service does (update_part)."""
    mac.update(len(part).to_bytes(8, "big"))
    mac.update(part)


def next_cursor(key: bytes, user_id, status: str, after) -> str:
    """The service's cursor of the received list after `after`, for `user_id` under `status` (and
    no event filter): CursorKey::scope(...).filter("status").filter("event_id").issue(after)."""
    mac = hmac.new(key, b"event-manager cursor", hashlib.sha256)
    mac.update(bytes([CURSOR_VERSION]))
    mac.update(user_id.bytes)
    _update_part(mac, RECEIVED_LIST)
    for name, value in (("status", status), ("event_id", "")):
        _update_part(mac, name.encode())
        _update_part(mac, value.encode())
    mac.update(after.bytes)
    raw = bytes([CURSOR_VERSION]) + after.bytes + mac.digest()[:CURSOR_TAG_LEN]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bearer_token(authorization):
    """The token of `Bearer <token>` (the scheme in any case), or None (crates/http-actix/src/
    auth.rs, BearerToken::parse)."""
    if authorization is None or len(authorization) > 512:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.lstrip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        return None
    return token


class Unauthenticated(Exception):
    """A missing or bad bearer token, with the challenge the 401 carries."""

    def __init__(self, challenge):
        super().__init__(challenge)
        self.challenge = challenge


# --- The app ------------------------------------------------------------------------------------


def create_app():
    """The FastAPI app, as uvicorn's --factory calls it in each worker. Environment:
    PEER_DATABASE_URL, PEER_POOL_SIZE, PEER_READY_DIR (optional: where to say the pool is open)."""
    import asyncpg
    from fastapi import Depends, FastAPI, Header, Request
    from fastapi.responses import JSONResponse

    database_url = os.environ["PEER_DATABASE_URL"]
    pool_size = int(os.environ.get("PEER_POOL_SIZE", "5"))
    (user_sql, user_names), (list_sql, list_names) = statements()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.pool = await asyncpg.create_pool(database_url, min_size=pool_size, max_size=pool_size)
        async with app.state.pool.acquire() as conn:
            # The statement's columns are where the body takes them from.
            names = [a.name for a in (await conn.prepare(list_sql)).get_attributes()]
            wrong = {key: names[p] if p < len(names) else None
                     for key, (p, name) in COLUMNS.items() if p >= len(names) or names[p] != name}
            if wrong:
                raise RuntimeError(f"{READ_SQL.name}'s list statement moved columns the peer reads: {wrong}")
            # The service's cursor key, made by the first process that asks (secrets.rs).
            await conn.execute("INSERT INTO service_secrets (name, value, created_at) VALUES ($1, $2, now()) "
                               "ON CONFLICT DO NOTHING", CURSOR_KEY_NAME,
                               base64.b64encode(os.urandom(32)).decode())
            stored = await conn.fetchval("SELECT value FROM service_secrets WHERE name = $1", CURSOR_KEY_NAME)
            app.state.cursor_key = base64.b64decode(stored.strip())
        if os.environ.get("PEER_READY_DIR"):
            (Path(os.environ["PEER_READY_DIR"]) / str(os.getpid())).touch()
        yield
        await app.state.pool.close()

    app = FastAPI(title="Event Manager read peer", lifespan=lifespan)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: Unauthenticated):
        return JSONResponse(UNAUTHENTICATED, status_code=401, headers={"WWW-Authenticate": error.challenge})

    async def connection(request: Request):
        """One pooled connection for the request (the usual `get_db` dependency)."""
        async with request.app.state.pool.acquire() as conn:
            yield conn

    async def current_user(authorization: str | None = Header(default=None), conn=Depends(connection)):
        """The caller, by their bearer token: the first statement of pgbench-read.sql."""
        token = bearer_token(authorization)
        if token is None:
            presented = authorization is not None and authorization.strip().lower().startswith("bearer ")
            raise Unauthenticated(INVALID_TOKEN_CHALLENGE if presented else CHALLENGE)
        now = datetime.datetime.now(datetime.timezone.utc)
        token_hash = hashlib.sha256(token.encode()).digest()
        user = await conn.fetchrow(user_sql, *binds(user_names, token_hash=token_hash, now=now, one=1))
        if user is None:
            raise Unauthenticated(INVALID_TOKEN_CHALLENGE)
        return user

    @app.get("/health/ready")
    async def ready(request: Request):
        await request.app.state.pool.fetchval("SELECT 1")
        return {"status": "ready"}

    @app.get("/api/v1/received-invitations")
    async def received_invitations(request: Request, user=Depends(current_user), conn=Depends(connection),
                                   status: str = "pending"):
        """Invitations sent to the caller, newest first: the second statement of pgbench-read.sql."""
        if status not in OPEN:
            message = "The peer lists pending or tentative invitations only."
            return JSONResponse({"message": message, "errors": {"status": [message]}}, status_code=422)
        now = datetime.datetime.now(datetime.timezone.utc)
        rows = await conn.fetch(list_sql, *binds(list_names, id=user["id"], status=status, now=now, one=1,
                                                 limit=PAGE + 1))
        items = rows[:PAGE]
        after = None
        if len(rows) > PAGE:
            after = next_cursor(request.app.state.cursor_key, user["id"], status, items[-1][C["id"]])
        return {"data": [invitation_body(row, now) for row in items], "meta": {"limit": PAGE, "next_cursor": after}}

    return app


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 bench/peer.py DATABASE_URL (a database seeded by bench/seed.sql)")
    out = BENCH / "out"
    peer = Peer(ensure_venv(out), sys.argv[1], out / "peer.log")
    try:
        request = urllib.request.Request(f"{peer.url}/api/v1/received-invitations?status=pending",
                                         headers={"Authorization": "Bearer bench-token-1"})
        with urllib.request.urlopen(request) as r:
            print(json.dumps(json.load(r), indent=2, ensure_ascii=False))
    finally:
        peer.stop()
