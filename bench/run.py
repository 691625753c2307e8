#!/usr/bin/env python3
"""`make bench`: load-test the release binary on generated PostgreSQL data, beside pgbench's ceiling.

Builds target/release/event-manager, creates two databases (large: 1,000,000 invitations by default;
small: 10,000) on BENCH_PG, fills them with bench/seed.sql, and drives load with wrk from this
process on 127.0.0.1. Every scenario is bounded in time (BENCH_SECONDS, default 15). Writes
bench/out/report.md and prints it. Nothing here is a test: it asserts nothing, it measures.

Environment: BENCH_PG (server URL without database, default postgres://postgres@127.0.0.1:5432),
BENCH_SECONDS, BENCH_RUNS (repeats of the read scenario and its ceiling, default 3), BENCH_USERS,
BENCH_EVENTS, BENCH_PER_EVENT (large set), BENCH_CONNECTIONS (default 32), BENCH_SKIP_BUILD=1.
Tail against the ceiling: each round also runs the read scenario on the large set at
BENCH_HIGH_CONNECTIONS (default 128) and pgbench with as many clients; every pgbench run writes a
per-transaction log (-l, in a temporary directory) from which its p50/p99 are computed, so the
report gives service / pgbench for throughput and for p99 at both counts (the raw rounds also go
to bench/out/tail-rounds.json). pgbench at 128 clients needs max_connections >= ~160 on BENCH_PG
(the service's pools are open beside it); with fewer free connection slots that run is skipped and
the report says so.
BENCH_ONLY=<parts> runs only some parts, on the large set, for short runs: a comma-separated list
of read (the read scenario at both counts beside pgbench), patch (PATCH answers), sends (sends of
10/100/1,000 contacts, one connection) and streams (the live-stream part), run in that order;
e.g. BENCH_ONLY=read,sends. Every run that creates the large set reports the on-disk size of the
invitations table and of each of its indexes (pg_relation_size), and of the other tables.
Live streams: BENCH_STREAMS (open SSE streams, default 1000, spread over the 100 token users, so
the server runs with STREAMS_PER_USER = BENCH_STREAMS / 100), BENCH_STREAM_CHANGES (changes fanned
out, default 20), BENCH_ONLY=streams (only the live-stream part: one data set, no other scenario),
BENCH_STREAM_DATA (the set it uses then: large, the default, or small). BENCH_BIN: the server binary
to measure instead of target/release/event-manager (no build then).
Webhook delivery lag (bench/deliveries.py) on the small set: BENCH_DELIVERY_RATE (changes per
second, default 200), BENCH_DELIVERY_CLIENTS (connections making them, default 4);
BENCH_ONLY=deliveries runs only that part.
Scale-out (bench/pooler.py): the read through PgBouncer in transaction mode and through HAProxy over
three processes, beside direct connections with prepared statements on and off;
BENCH_ONLY=pooler runs only that part.
The FastAPI peer (bench/peer.py, in a venv under bench/out that pip fills from PyPI): the read on
the large set answered by FastAPI + asyncpg, at both connection counts, service ÷ peer (target
>= 3); BENCH_ONLY=peer (combinable with the other large-set parts).
The embedded default (SQLite): the read beside a minimal program running its two statements
(bench/sqlite-read.sql) on the same file, PATCH answers beside concurrent POST /events, peak RSS;
BENCH_ONLY=sqlite runs only that part (no PostgreSQL needed).
Growth: BENCH_ONLY=growth seeds the large set and one BENCH_GROWTH (default 10) times its size
(10,000,000 invitations; ~7 GB on disk, ~15 minutes of seeding on 2 cores) and compares the read's
and the accept's p50 and CPU per request on the two (target: CPU within 1.10 x), and how long each
server takes to number the changes its accepts staged (target: within 5 s on both).
"""

import asyncio
import math

import datetime
import hashlib
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deliveries  # noqa: E402  (bench/deliveries.py: webhook delivery lag)
import peer  # noqa: E402  (bench/peer.py: the FastAPI + asyncpg peer of the read)
import pooler  # noqa: E402  (bench/pooler.py: the read through PgBouncer and HAProxy)
import sse  # noqa: E402  (bench/sse.py: the standard-library SSE client)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
# BENCH_BIN measures another build (e.g. a copy of an earlier commit's binary, for a before/after
# pair in one sitting); it also migrates the databases it runs on. Implies BENCH_SKIP_BUILD.
BIN = Path(os.environ.get("BENCH_BIN", ROOT / "target" / "release" / "event-manager"))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
HIGH_CONNECTIONS = int(os.environ.get("BENCH_HIGH_CONNECTIONS", "128"))
TOKENS = 100
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
STREAM_CHANGES = int(os.environ.get("BENCH_STREAM_CHANGES", "20"))
ONLY = os.environ.get("BENCH_ONLY", "")
DELIVERY_RATE = int(os.environ.get("BENCH_DELIVERY_RATE", "200"))
DELIVERY_CLIENTS = int(os.environ.get("BENCH_DELIVERY_CLIENTS", "4"))
STREAM_DATA = os.environ.get("BENCH_STREAM_DATA", "large")
READ_PATH = "/api/v1/received-invitations?status=pending"
PASSWORD = "bench password"
LARGE = dict(
    users=int(os.environ.get("BENCH_USERS", "100000")),
    events=int(os.environ.get("BENCH_EVENTS", "10000")),
    per_event=int(os.environ.get("BENCH_PER_EVENT", "100")),
    token_users=TOKENS, patch_events=300, send_events=20000, ceiling_accepts=400, ceiling_sends=15000,
)
SMALL = dict(users=1000, events=100, per_event=100, token_users=TOKENS, patch_events=300, send_events=200,
             ceiling_accepts=0, ceiling_sends=0)


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def psql(db, *args, capture=False):
    cmd = ["psql", f"{PG}/{db}?sslmode=disable", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args]
    return run(cmd, capture_output=capture).stdout if capture else run(cmd)


def ensure_tools():
    if shutil.which("wrk") is None:
        log("installing wrk (Debian package)")
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "wrk"])
    for tool in ["psql", "pgbench"]:
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is required (PostgreSQL client tools)")


def build():
    if os.environ.get("BENCH_SKIP_BUILD") != "1" and "BENCH_BIN" not in os.environ:
        log("building the release binary")
        run(["cargo", "build", "--release", "--locked", "--bin", "event-manager"], cwd=ROOT)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The release binary on a database, with rate limits off (the bench is the abuse)."""

    def __init__(self, database_url, log_path, extra_env=None):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, BIND_ADDR=f"127.0.0.1:{self.port}",
                   RUST_LOG="warn", LOGIN_FAILURES_PER_ACCOUNT="0", LOGIN_FAILURES_PER_ADDRESS="0",
                   SEND_INVITATIONS_PER_USER="0", LOGIN_FAILURES_PER_ACCOUNT_ADDRESS="0",
                   REGISTRATIONS_PER_ADDRESS="0", EVENTS_PER_USER_PER_DAY="0",
                   EVENT_EDITS_PER_USER_PER_MINUTE="0", STREAM_TICKETS_PER_USER_PER_MINUTE="0",
                   EVENT_NOTICES_PER_USER_PER_HOUR="0", SEND_RECIPIENTS_PER_DAY="0",
                   SEND_RECIPIENTS_PER_DAY_ESTABLISHED="0", MESSAGES_PER_RECIPIENT_PER_DAY="0",
                   # The generated users' contacts count as proven: invitations reach them.
                   CONTACT_VERIFICATION="off",
                   # No email or text transport: each invitation would otherwise be an email
                   # written to OUTBOX_DIR (data/outbox, the development outbox: hundreds of
                   # thousands of files a run), delivered in the background far slower than the
                   # sends make them, its claims' cost growing with that backlog on the cores the
                   # measured requests and their pgbench ceilings share
                   # (bench/reports/2026-12-07-send-ceiling.md). Neither a request nor its ceiling
                   # contains the delivery; the delivery lag part measures it, with webhooks.
                   SMTP_URL="none", SMS_URL="none")
        env.update(extra_env or {})
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([str(BIN), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{self.url}/health/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"bench: the server did not become ready (see {log_path})")

    def peak_rss_mib(self):
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def cpu_seconds(self):
        """CPU time the server has used so far, user and kernel, in seconds."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        """The server's resident set now (VmRSS), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))

    def post(self, path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(),
                                         headers=headers, method="POST")
        with urllib.request.urlopen(request) as r:
            return json.load(r)

    def stop(self):
        # On SIGTERM the server finishes what is in flight: requests, the delivery worker's batch
        # under way (a backlog of staged changes is left for the next process), attempts (up to
        # 20 s). Longer than 5 s is logged: it is worth a look.
        started = time.monotonic()
        self.process.terminate()
        self.process.wait(timeout=120)
        if time.monotonic() - started > 5:
            log(f"the server took {time.monotonic() - started:.0f} s to stop")
        self.log.close()


def wrk(server, script, env=None, connections=CONNECTIONS, threads=2, seconds=SECONDS):
    """Runs one wrk scenario; returns req/s, p50/p99 in ms and the error count."""
    body = (BENCH / "wrk" / "common.lua").read_text() + "\n" + (BENCH / "wrk" / script).read_text()
    path = OUT / f"run-{script}"
    path.write_text(body)
    full_env = dict(os.environ, BENCH_TOKENS=str(TOKENS), BENCH_THREADS=str(threads), **(env or {}))
    out = run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(path), server.url],
              capture_output=True, env=full_env).stdout
    result = json.loads(re.search(r"^RESULT (.*)$", out, re.M).group(1))
    errors = sum(result[k] for k in ["connect", "read", "write", "status", "timeout"])
    return {"rps": result["requests"] / (result["duration_us"] / 1e6), "p50": result["p50_us"] / 1000,
            "p99": result["p99_us"] / 1000, "errors": errors, "requests": result["requests"],
            "load": os.getloadavg()[0]}


def wrk_background(server, script, env, connections, threads=1, seconds=SECONDS):
    body = (BENCH / "wrk" / "common.lua").read_text() + "\n" + (BENCH / "wrk" / script).read_text()
    path = OUT / f"bg-{script}"
    path.write_text(body)
    full_env = dict(os.environ, BENCH_TOKENS=str(TOKENS), BENCH_THREADS=str(threads), **env)
    return subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(path), server.url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env)


def background_result(process):
    out = process.communicate()[0]
    result = json.loads(re.search(r"^RESULT (.*)$", out, re.M).group(1))
    return {"rps": result["requests"] / (result["duration_us"] / 1e6), "p50": result["p50_us"] / 1000, "p99": result["p99_us"] / 1000}


def pgbench(db, clients=CONNECTIONS, script="pgbench-read.sql", defines=None):
    """pgbench on a script of the statements one request sends (by default the read scenario's two,
    bench/pgbench-read.sql), prepared, with a per-transaction log in a temporary directory; returns
    tps, p50/p99 in ms (from the log: every transaction's elapsed time), the transactions and the
    failed ones. Bounded by -T like every scenario."""
    defines = dict(defines or {"tokens": TOKENS, "status": "pending"})
    with tempfile.TemporaryDirectory(prefix="em-pgbench-") as directory:
        cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(SECONDS),
               "-l", f"--log-prefix={directory}/tx", *sum((["-D", f"{k}={v}"] for k, v in defines.items()), []),
               "-f", str(BENCH / script), f"{PG}/{db}?sslmode=disable"]
        done = subprocess.run(cmd, text=True, capture_output=True, cwd=directory, timeout=SECONDS + 120)
        found = re.search(r"tps = ([\d.]+)", done.stdout)
        if found is None:
            raise SystemExit(f"bench: pgbench -c {clients} failed ({done.returncode}): {done.stderr.strip()[-600:]}")
        # Log lines: client_id transaction_no time script_no time_epoch time_us [...]; time is the
        # transaction's elapsed time in microseconds, or a word ("failed", "skipped") instead.
        latencies, unlogged = [], 0
        for path in Path(directory).glob("tx.*"):
            with open(path) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) >= 3 and fields[2].isdigit():
                        latencies.append(int(fields[2]))
                    else:
                        unlogged += 1
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    # A failed transaction is both counted in the summary and logged as "failed": count it once.
    errors = max(int(failed.group(1)) if failed else 0, unlogged) + (1 if done.returncode != 0 else 0)
    if done.returncode != 0:
        log(f"pgbench -c {clients} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    if not latencies:
        raise SystemExit(f"bench: pgbench -c {clients} logged no transaction")
    return {"tps": float(found.group(1)), "p50": percentile(latencies, 50) / 1000, "p99": percentile(latencies, 99) / 1000,
            "errors": errors, "transactions": len(latencies)}


# What each write ceiling's transaction must have written, counted afterwards: (the count, rows
# written per transaction). A script that binds the wrong values still runs, faster, doing less
# than the request (pgbench-send.sql once gave its ten invitations one id and inserted one).
CEILING_EFFECTS = {
    "bench_accept": ("SELECT count(*) FROM invitations i JOIN bench_accept a ON a.invitation_id = i.id "
                     "WHERE i.status = 'accepted'", 1),
    "bench_send_ceiling": ("SELECT count(*) FROM invitations i JOIN bench_send_ceiling b ON b.event_id = i.event_id", 10),
}


def write_ceiling(db, script, clients, table, extra=None):
    """pgbench on the statements one write request sends (bench/pgbench-accept.sql or
    pgbench-send.sql, held to the service's SQL by a test), at the scenario's concurrency, each
    client on rows of its own of `table` (made by bench/seed.sql). Run right after the service's
    scenario, with the server still up: its change sequencer numbers pgbench's changes as it did
    the service's own. Then checks that every transaction wrote what the request writes
    (`CEILING_EFFECTS`): `result["effect"]` is None when it did, else what it wrote."""
    rows = int(psql(db, "-At", "-c", f"SELECT count(*) FROM {table}", capture=True).strip())
    count_sql, per_transaction = CEILING_EFFECTS[table]
    before = int(psql(db, "-At", "-c", count_sql, capture=True).strip())
    result = pgbench(db, clients=clients, script=script,
                     defines={"i": 0, "clients": clients, "rows": rows, **(extra or {})})
    # Past `rows` the clients wrap around to rows already written: note it.
    result["wrapped"] = result["transactions"] > rows
    written = int(psql(db, "-At", "-c", count_sql, capture=True).strip()) - before
    expected = per_transaction * min(result["transactions"], rows)
    result["effect"] = None if written == expected else (
        f"{written} rows written by {result['transactions']} transactions, {per_transaction} each expected")
    if result["effect"]:
        log(f"pgbench {script}: {result['effect']}: the ceiling is not the request's; see its script")
    return result


def free_connection_slots(db):
    """max_connections minus the client backends connected now (this psql's included)."""
    text = psql(db, "-At", "-c", "SELECT current_setting('max_connections')::int, "
                "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')", capture=True)
    limit, used = (int(v) for v in text.strip().split("|"))
    return limit, limit - used


def create_database(name, sizes):
    log(f"creating {name}: {sizes}")
    psql("postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql("postgres", "-c", f"CREATE DATABASE {name}")
    url = f"{PG}/{name}?sslmode=disable"
    run([str(BIN), "migrate"], env=dict(os.environ, DATABASE_URL=url, RUST_LOG="warn"))
    started = time.monotonic()
    psql(name, *sum((["-v", f"{k}={v}"] for k, v in sizes.items()), []), "-f", str(BENCH / "seed.sql"))
    # Settle the freshly written tables (visibility map, statistics, dirty pages) so that no
    # background vacuum or checkpoint runs into the measurements. Only the tables the seed filled:
    # a table vacuumed or analyzed while empty is planned as empty (reltuples 0) until analyzed
    # again, which without autovacuum is never, and the foreign-key checks of the change
    # sequencer's inserts then scan all of `changes` for every recipient: ~1,100 pages a row
    # after a minute of accepts, 1.8 s a batch (bench/reports/2026-12-07-sequencer.md). Left unanalyzed,
    # the planner sizes those tables by their pages, as it does between autovacuum's visits.
    filled = psql(name, "-Atc", "SELECT string_agg(format('%I', relname), ', ') FROM pg_class "
                  "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
                  "AND pg_relation_size(oid) > 0", capture=True).strip()
    if not filled:
        sys.exit(f"bench: the seed filled no table of {name}")
    psql(name, "-c", f"VACUUM (ANALYZE) {filled}")
    psql(name, "-c", "CHECKPOINT")
    log(f"seeded {name} in {time.monotonic() - started:.0f} s")
    return url


def set_password_hashes(databases, phc):
    for db in databases:
        psql(db, "-c", f"UPDATE users SET password_hash = '{phc}'")


def export_pairs(db, table, columns):
    path = OUT / f"{db}-{table}.csv"
    text = psql(db, "-At", "-c", f"SELECT {columns} FROM {table}", capture=True)
    path.write_text(text.replace("|", ","))
    return path


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def machine_cpu_seconds():
    """CPU time the whole machine has spent busy since boot, every process and the kernel's
    (/proc/stat: all but idle and iowait), in seconds."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def measured_wrk(server, script, env, **kw):
    """wrk against `server`, with the machine's CPU (cpu_us: every process and the kernel) and the
    server's own (server_cpu_us) per request over the run."""
    machine, own = machine_cpu_seconds(), server.cpu_seconds()
    result = wrk(server, script, env, **kw)
    result["cpu_us"] = (machine_cpu_seconds() - machine) / result["requests"] * 1e6
    result["server_cpu_us"] = (server.cpu_seconds() - own) / result["requests"] * 1e6
    return result


def measured_pgbench(db, clients):
    """pgbench on the read's two statements, with the machine's CPU per transaction (cpu_us: every
    process and the kernel) over the run."""
    machine = machine_cpu_seconds()
    result = pgbench(db, clients=clients)
    result["cpu_us"] = (machine_cpu_seconds() - machine) / result["transactions"] * 1e6
    return result


def tail_round(server, db):
    """One round of the read scenario on the large set against pgbench on the same two statements,
    at CONNECTIONS and at HIGH_CONNECTIONS, each pair back to back (service, then pgbench)."""
    result = {}
    for n in [CONNECTIONS, HIGH_CONNECTIONS]:
        service = measured_wrk(server, "list.lua", {"BENCH_PATH": READ_PATH}, connections=n)
        limit, free = free_connection_slots(db)
        if free < n:
            log(f"pgbench -c {n} skipped: max_connections {limit}, {free} slots free")
            ceiling = {"skipped": f"max_connections {limit}, {free} free"}
        else:
            ceiling = measured_pgbench(db, n)
        result[n] = {"service": service, "pgbench": ceiling}
        if "skipped" in ceiling:
            log(f"{n} connections: service {service['rps']:.0f} req/s, p99 {service['p99']:.1f} ms; pgbench skipped")
        else:
            log(f"{n} connections: service {service['rps']:.0f} req/s, p99 {service['p99']:.1f} ms; "
                f"pgbench {ceiling['tps']:.0f} tps, p99 {ceiling['p99']:.1f} ms")
    return result


PEER_TARGET = 3.0


def peer_rounds(server, url):
    """The read beside its FastAPI + asyncpg peer (bench/peer.py) on the same database: in each of
    RUNS rounds, at CONNECTIONS and at HIGH_CONNECTIONS, the service then the peer, back to back."""
    python = peer.ensure_venv(OUT)
    other = peer.Peer(python, url, OUT / "peer.log", workers=os.cpu_count() or 1)
    rounds = []
    try:
        for round_no in range(RUNS):
            log(f"peer round {round_no + 1} of {RUNS} (load average {os.getloadavg()[0]:.1f})")
            result = {}
            for n in [CONNECTIONS, HIGH_CONNECTIONS]:
                result[n] = {"service": wrk(server, "list.lua", {"BENCH_PATH": READ_PATH}, connections=n),
                             "peer": wrk(other, "list.lua", {"BENCH_PATH": READ_PATH}, connections=n)}
                log(f"{n} connections: service {result[n]['service']['rps']:.0f} req/s, peer {result[n]['peer']['rps']:.0f} req/s")
            rounds.append(result)
    finally:
        other.stop()
    return rounds


def peer_report(rounds):
    """The read against the FastAPI peer: throughput ratios (the median of the rounds' own), p50/p99."""
    rows = []
    for n in [CONNECTIONS, HIGH_CONNECTIONS]:
        ratios = [r[n]["service"]["rps"] / r[n]["peer"]["rps"] for r in rounds]
        med = {side: {k: statistics.median(r[n][side][k] for r in rounds) for k in ["rps", "p50", "p99"]} for side in ["service", "peer"]}
        errors = {side: sum(r[n][side]["errors"] for r in rounds) for side in ["service", "peer"]}
        ratio = statistics.median(ratios)
        verdict = "holds" if ratio >= PEER_TARGET and errors["service"] == 0 else "**missed**"
        rows.append(f"| {n} | {med['service']['rps']:,.0f} req/s, {med['service']['p50']:.2f}, {med['service']['p99']:.2f} | "
                    f"{med['peer']['rps']:,.0f} req/s, {med['peer']['p50']:.2f}, {med['peer']['p99']:.2f} | "
                    f"**{ratio:.2f}** (rounds {', '.join(f'{x:.2f}' for x in ratios)}) | ≥ {PEER_TARGET:.1f} | {verdict} | "
                    f"{errors['service']} / {errors['peer']} |")
    return "\n".join([
        "## The read against a FastAPI peer",
        "",
        f"The same `GET received-invitations?status=pending` on the large set answered by `bench/peer.py`: FastAPI on "
        f"uvicorn (uvloop, httptools), one worker process per core, an asyncpg pool of 5 in each (10 connections, the "
        f"service's pool), the two statements of `bench/pgbench-read.sql` every request (no token cache), the service's "
        f"JSON byte for byte. wrk -t2 -c N, {SECONDS} s, service then peer in each of {len(rounds)} rounds; medians.",
        "",
        "| connections | service: req/s, p50, p99 ms | peer: req/s, p50, p99 ms | service ÷ peer | target | verdict | errors (service / peer) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])


def tail_report(rounds):
    """The read against its ceiling: service / pgbench for throughput and p99 at both connection counts,
    medians of the rounds, with the targets and a verdict."""
    low, high = CONNECTIONS, HIGH_CONNECTIONS

    def med(n, side, key):
        values = [r[n][side][key] for r in rounds if key in r[n][side]]
        return statistics.median(values) if values else None

    def errors(n, side):
        return sum(r[n][side].get("errors", 0) for r in rounds)

    def verdict(ok):
        return "n/a" if ok is None else ("holds" if ok else "**missed**")

    def ratio(a, b):
        return None if a is None or b is None else a / b

    def fmt(x, spec=".2f"):
        return "n/a" if x is None else format(x, spec)

    figures = {}
    for n in [low, high]:
        figures[n] = {k: med(n, "service", k) for k in ["rps", "p50", "p99"]}
        figures[n].update({f"pg_{k}": med(n, "pgbench", k) for k in ["tps", "p50", "p99"]})
        # Ratios: the median of each round's ratio (service and pgbench measured back to back, so
        # drift on the shared machine cancels); the ratio of the medians beside it.
        paired = [r[n] for r in rounds if "tps" in r[n]["pgbench"]]
        figures[n]["rps_ratio"] = statistics.median(p["service"]["rps"] / p["pgbench"]["tps"] for p in paired) if paired else None
        figures[n]["p99_ratio"] = statistics.median(p["service"]["p99"] / p["pgbench"]["p99"] for p in paired) if paired else None
        figures[n]["rps_of_medians"] = ratio(figures[n]["rps"], figures[n]["pg_tps"])
        figures[n]["p99_of_medians"] = ratio(figures[n]["p99"], figures[n]["pg_p99"])
    scaling = statistics.median(r[high]["service"]["rps"] / r[low]["service"]["rps"] for r in rounds)
    scaling_of_medians = ratio(figures[high]["rps"], figures[low]["rps"])
    skipped = sorted({r[n]["pgbench"]["skipped"] for r in rounds for n in [low, high] if "skipped" in r[n]["pgbench"]})

    def bound(x, limit, above):
        return None if x is None else (x >= limit if above else x <= limit)

    rows = []
    for n in [low, high]:
        f = figures[n]
        rows.append(f"| {n} | throughput | {fmt(f['rps'], ',.0f')} req/s | {fmt(f['pg_tps'], ',.0f')} tps | **{fmt(f['rps_ratio'])}** ({fmt(f['rps_of_medians'])}) | "
                    + f"≥ {READ_TARGET:.2f} × pgbench | {verdict(bound(f['rps_ratio'], READ_TARGET, True))} |")
        rows.append(f"| {n} | p50 | {fmt(f['p50'])} ms | {fmt(f['pg_p50'])} ms | {fmt(ratio(f['p50'], f['pg_p50']))} | — | — |")
        rows.append(f"| {n} | p99 | {fmt(f['p99'])} ms | {fmt(f['pg_p99'])} ms | **{fmt(f['p99_ratio'])}** ({fmt(f['p99_of_medians'])}) | ≤ {READ_P99_TARGET} × pgbench p99 | "
                    f"{verdict(bound(f['p99_ratio'], READ_P99_TARGET, False))} |")
        rows.append(f"| {n} | errors (all rounds) | {errors(n, 'service')} | {errors(n, 'pgbench')} failed | | 0 | "
                    f"{verdict(errors(n, 'service') == 0)} |")
        cpu, own, pg_cpu = med(n, "service", "cpu_us"), med(n, "service", "server_cpu_us"), med(n, "pgbench", "cpu_us")
        if cpu is not None:
            rows.append(f"| {n} | the machine's CPU per request (every process and the kernel) | {fmt(cpu, '.0f')} µs, of which "
                        f"the server {fmt(own, '.0f')} µs | {fmt(pg_cpu, '.0f')} µs | {fmt(ratio(cpu, pg_cpu))} | — | — |")
    rows.append(f"| {high} vs {low} | service throughput at {high} ÷ at {low} | {fmt(figures[high]['rps'], ',.0f')} / "
                f"{fmt(figures[low]['rps'], ',.0f')} req/s | | **{fmt(scaling)}** ({fmt(scaling_of_medians)}) | ≥ 0.90 | {verdict(bound(scaling, 0.9, True))} |")

    per_round = []
    for i, r in enumerate(rounds, 1):
        cells = []
        for n in [low, high]:
            a, b = r[n]["service"], r[n]["pgbench"]
            if "skipped" in b:
                cells.append(f"{a['rps']:.0f}, {a['p50']:.2f}, {a['p99']:.2f} | skipped | n/a | n/a")
            else:
                cells.append(f"{a['rps']:.0f}, {a['p50']:.2f}, {a['p99']:.2f} | {b['tps']:.0f}, {b['p50']:.2f}, {b['p99']:.2f} | "
                             f"{a['rps'] / b['tps']:.2f} | {a['p99'] / b['p99']:.2f}")
        load = r[low]["service"].get("load")
        per_round.append(f"| {i} | " + " | ".join(cells) + f" | {'n/a' if load is None else f'{load:.1f}'} |")

    lines = [
        "## Read scenario against the ceiling, with its tail",
        "",
        f"`GET received-invitations?status=pending` on the large set (wrk -t2 -c N, {SECONDS} s) against pgbench on the same "
        f"two statements (`bench/pgbench-read.sql`, prepared, -j2 -c N, {SECONDS} s; p50/p99 from its per-transaction log), "
        f"back to back in each round; figures are medians of {len(rounds)} rounds. Throughput and p99 ratios: the median of the "
        f"rounds' own ratios (verdicts on these), then in brackets the ratio of the medians. The {high} ÷ {low} throughput "
        f"row: the median of the rounds' ratios, then in brackets the ratio of the medians.",
        "",
        "| connections | figure | service | pgbench | service ÷ pgbench | target | verdict |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"| round | service {low}: req/s, p50, p99 ms | pgbench {low}: tps, p50, p99 ms | tput ratio | p99 ratio "
        f"| service {high}: req/s, p50, p99 ms | pgbench {high}: tps, p50, p99 ms | tput ratio | p99 ratio | load average |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *per_round,
        "",
    ]
    if skipped:
        lines += [f"pgbench skipped in some rounds ({'; '.join(skipped)}): it needs a free connection slot per client "
                  "beside the service's pools; raise max_connections on BENCH_PG.", ""]
    return "\n".join(lines)


LOAD_AT_START = os.getloadavg()


def load_note():
    """Other work on the machine moves every figure: the load averages when the run began and now."""
    now = os.getloadavg()
    return (f"load average (1/5/15 min) {LOAD_AT_START[0]:.1f}/{LOAD_AT_START[1]:.1f}/{LOAD_AT_START[2]:.1f} at the start, "
            f"{now[0]:.1f}/{now[1]:.1f}/{now[2]:.1f} at the end")


def pg_server_note():
    text = psql("postgres", "-At", "-c", "SELECT current_setting('server_version') || ', max_connections ' || "
                "current_setting('max_connections') || ', shared_buffers ' || current_setting('shared_buffers')", capture=True)
    return f"PostgreSQL {text.strip()} at {PG.split('@')[-1]}"


def sqlite_bench():
    """The embedded default, on a seeded SQLite file: the read scenario, then the same read's two
    statements run by a minimal program on the same file (its ceiling), then `PATCH` answers beside
    concurrent `POST /events`, and the server's peak RSS."""
    directory = Path(tempfile.mkdtemp(prefix="em-bench-"))
    path = directory / "bench.sqlite3"
    run([str(BIN), "migrate"], env=dict(os.environ, DATABASE_URL=str(path), RUST_LOG="warn"))
    seed_sqlite(path)
    server = Server(str(path), OUT / "server-sqlite.log")
    try:
        reads, ceilings = [], []
        for round_no in range(RUNS):
            log(f"SQLite read round {round_no + 1} of {RUNS} (load average {os.getloadavg()[0]:.1f})")
            reads.append(wrk(server, "list.lua", {"BENCH_PATH": READ_PATH}))
            ceilings.append(sqlite_ceiling(path))
        rss_read = server.peak_rss_mib()
        patch_file = OUT / "sqlite-patch.csv"
        writers = wrk_background(server, "create_event.lua", {}, connections=8, seconds=SECONDS)
        answers = wrk(server, "patch.lua", {"BENCH_FILE": str(patch_file)}, connections=8)
        events = background_result(writers)
        rss = server.peak_rss_mib()
    finally:
        server.stop()
    locked = (OUT / "server-sqlite.log").read_text().count("database is locked")
    shutil.rmtree(directory, ignore_errors=True)
    return {"reads": reads, "ceilings": ceilings, "answers": answers, "events": events, "locked": locked,
            "rss_read": rss_read, "rss": rss}


def sqlite_statements(name):
    """The statements of a bench/sqlite-*.sql script, in order: its text without comment lines,
    split at the semicolons that end them."""
    text = "\n".join(line for line in (BENCH / name).read_text().splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(statement.split()) for statement in text.split(";") if statement.strip()]


def sqlite_now():
    """Now as the service binds a timestamp on SQLite: UTC, `2026-12-07 10:00:00.123456`."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite_reader(path, deadline, results):
    """One client of the SQLite ceiling: until `deadline` (time.monotonic()), the read's two
    statements (bench/sqlite-read.sql) for a random token user, through Python's sqlite3 module
    (prepared once, then bound and stepped: its statement cache), every row fetched. Puts the
    transactions' latencies in µs on `results`."""
    latencies = []
    try:
        token_sql, list_sql = sqlite_statements("sqlite-read.sql")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        while time.monotonic() < deadline:
            started = time.perf_counter_ns()
            n = random.randint(1, TOKENS)
            now = sqlite_now()
            user = db.execute(token_sql, (hashlib.sha256(f"bench-token-{n}".encode()).digest(), now, 1)).fetchone()
            rows = db.execute(list_sql, (1, user[0], "pending", now, 51)).fetchall()
            if not rows:
                raise ValueError(f"the SQLite ceiling read no invitation for bench-token-{n}")
            latencies.append((time.perf_counter_ns() - started) // 1000)
        db.close()
        results.put(latencies)
    except Exception as e:  # noqa: BLE001 (reported to the parent, which stops the bench)
        results.put(f"{type(e).__name__}: {e}")


def sqlite_ceiling(path):
    """The read's ceiling on SQLite: one sqlite_reader process per core on the same file for
    SECONDS (the service's read runs on as many cores); transactions a second, p50/p99 in ms."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    started = time.monotonic()
    processes = [context.Process(target=sqlite_reader, args=(str(path), started + SECONDS, results))
                 for _ in range(os.cpu_count() or 1)]
    for process in processes:
        process.start()
    reported = [results.get(timeout=SECONDS + 60) for _ in processes]
    for process in processes:
        process.join()
    failures = [r for r in reported if isinstance(r, str)]
    if failures:
        raise SystemExit(f"bench: the SQLite ceiling failed: {failures[0]}")
    latencies = sum(reported, [])
    elapsed = time.monotonic() - started
    return {"tps": len(latencies) / elapsed, "p50": percentile(latencies, 50) / 1000,
            "p99": percentile(latencies, 99) / 1000, "processes": len(processes), "transactions": len(latencies)}


def sqlite_report(result):
    """The embedded default's section: the read beside its ceiling (medians of the rounds, the
    ratio the median of the rounds' own), the answers beside concurrent writers, the RSS."""
    reads, ceilings = result["reads"], result["ceilings"]
    ratios = [r["rps"] / c["tps"] for r, c in zip(reads, ceilings)]
    read = {k: statistics.median(r[k] for r in reads) for k in ["rps", "p50", "p99"]}
    ceiling = {k: statistics.median(c[k] for c in ceilings) for k in ["tps", "p50", "p99"]}
    errors = sum(r["errors"] for r in reads)
    answers, events = result["answers"], result["events"]
    rounds = [f"| {i} | {r['rps']:.0f}, {r['p50']:.2f}, {r['p99']:.2f} | {c['tps']:.0f}, {c['p50']:.2f}, {c['p99']:.2f} | "
              f"{r['rps'] / c['tps']:.2f} | {'n/a' if r.get('load') is None else format(r['load'], '.1f')} |"
              for i, (r, c) in enumerate(zip(reads, ceilings), 1)]
    return "\n".join([
        "## The embedded default (SQLite)",
        "",
        f"The server on a SQLite file seeded like the small set (10,000 invitations, WAL). The read (wrk -t2 -c{CONNECTIONS}, "
        f"{SECONDS} s) beside its ceiling: the two statements it sends when its token is looked up "
        f"(`bench/sqlite-read.sql`, held to the service's SQL by a test), run by a minimal program on the same file "
        f"(Python's `sqlite3`: each statement prepared once, then bound, stepped and every row fetched; "
        f"{ceilings[0]['processes']} processes, one per core, {SECONDS} s), back to back in each of {len(reads)} rounds. "
        f"The service finds its tokens in its cache and sends one of the two; the ceiling renders no JSON.",
        "",
        "| figure | service | minimal program | service ÷ program | target | verdict |",
        "|---|---|---|---|---|---|",
        f"| throughput | {read['rps']:,.0f} req/s | {ceiling['tps']:,.0f} tx/s | **{statistics.median(ratios):.2f}** "
        f"(rounds {', '.join(f'{x:.2f}' for x in ratios)}) | tracked | — |",
        f"| p50 | {read['p50']:.2f} ms | {ceiling['p50']:.2f} ms | {read['p50'] / ceiling['p50']:.2f} | — | — |",
        f"| p99 | {read['p99']:.2f} ms | {ceiling['p99']:.2f} ms | {read['p99'] / ceiling['p99']:.2f} | — | — |",
        f"| errors | {errors} | | | 0 | {'holds' if errors == 0 else '**missed**'} |",
        f"| `PATCH` answers on 8 connections beside `POST /events` on 8 more | {answers['rps']:,.0f} req/s, p50 {answers['p50']:.2f}, "
        f"p99 {answers['p99']:.2f} ms, {answers['errors']} errors; events {events['rps']:,.0f}/s | | | 0 errors | "
        f"{'holds' if answers['errors'] == 0 else '**missed**'} |",
        f"| \"database is locked\" in the server's log | {result['locked']} | | | 0 | {'holds' if result['locked'] == 0 else '**missed**'} |",
        f"| peak RSS (`VmHWM`) after the reads; after the writes | {result['rss_read']:.1f} MiB; {result['rss']:.1f} MiB | | | ≤ 64 MiB | "
        f"{'holds' if result['rss'] <= 64 else '**missed**'} |",
        "",
        "| round | service: req/s, p50, p99 ms | program: tx/s, p50, p99 ms | ratio | load average |",
        "|---|---|---|---|---|",
        *rounds,
        "",
    ])


GROWTH = int(os.environ.get("BENCH_GROWTH", "10"))
GROWTH_TARGET = 1.10


def growth_only():
    """BENCH_ONLY=growth: what a request costs as the data grows. The large set and one BENCH_GROWTH
    times its size (users and events scaled, as many invitations per event; the token users' lists
    have the same shape), each with its own server; in each of RUNS rounds the read on one, then on
    the other, with the machine's CPU per request; then PATCH answers on each, each set's server
    stopped once the changes its accepts staged are numbered (timed: the background work the
    accepts cause), before the other's are measured. Its own report."""
    commit = git_commit()
    writes = dict(send_events=0, ceiling_accepts=0, ceiling_sends=0)
    sets = {"large": dict(LARGE, **writes),
            "grown": dict(LARGE, users=LARGE["users"] * GROWTH, events=LARGE["events"] * GROWTH, **writes)}
    names = {"large": "em_bench_large", "grown": "em_bench_grown"}
    urls = {key: create_database(names[key], sizes) for key, sizes in sets.items()}
    on_disk = {key: relation_sizes(names[key]) for key in sets}
    servers = {key: Server(urls[key], OUT / f"server-{key}.log") for key in sets}
    reads, patches = {key: [] for key in sets}, {}
    try:
        for round_no in range(RUNS):
            log(f"growth round {round_no + 1} of {RUNS} (load average {os.getloadavg()[0]:.1f})")
            for key, server in servers.items():
                result = measured_wrk(server, "list.lua", {"BENCH_PATH": READ_PATH})
                reads[key].append(result)
                log(f"{key}: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, {result['cpu_us']:.0f} µs of CPU a request")
        # One set after the other, each server stopped once the changes its accepts staged are
        # numbered: that background work must not land in the other set's figure.
        for key, server in servers.items():
            patch_file = export_pairs(names[key], "bench_patch", "token, invitation_id")
            result = measured_wrk(server, "patch.lua", {"BENCH_FILE": str(patch_file)})
            result["staged"], result["numbered_s"] = wait_numbered(names[key])
            numbered = (f"all numbered {result['numbered_s']:.1f} s later" if result["numbered_s"] is not None
                        else f"not all numbered after {NUMBERING_WAIT} s")
            log(f"{key}: {result['staged']} changes staged when the accepts ended, {numbered}")
            patches[key] = result
            log(f"{key} PATCH: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, {result['cpu_us']:.0f} µs of CPU a request")
            server.stop()
    finally:
        for server in servers.values():
            if server.process.poll() is None:
                server.stop()
    (OUT / "partial.json").write_text(json.dumps({"reads": reads, "patches": patches, "sizes": on_disk}, indent=1))
    text = "\n".join([
        f"Measured on commit `{commit}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores; server and load on one machine; {pg_server_note()}; {load_note()}.",
        "", growth_report(sets, reads, patches, on_disk)]) + "\n"
    (OUT / "report.md").write_text(text)
    print(text)


NUMBERING_WAIT = 600
NUMBERING_TARGET = 5.0


def wait_numbered(db):
    """How many changes are staged now (PostgreSQL's stage, docs/architecture.md, "The change
    feed's order"), and the seconds until none is (the server's sequencer numbers them as its
    fan-out and delivery worker read), or None after NUMBERING_WAIT seconds."""
    def staged():
        return int(psql(db, "-Atc", "SELECT count(*) FROM changes_staged", capture=True).strip())
    started, first = time.monotonic(), staged()
    left = first
    while left > 0:
        if time.monotonic() - started > NUMBERING_WAIT:
            return first, None
        time.sleep(0.2)
        left = staged()
    return first, time.monotonic() - started


def growth_report(sets, reads, patches, on_disk):
    """Per-request cost on the grown set ÷ on the large set: the read's (medians of the rounds) and
    the accept's p50 and the machine's CPU per request, with the target and verdict."""
    def invitations(key):
        return sets[key]["events"] * sets[key]["per_event"]

    def table_mib(key):
        sizes = on_disk[key]["invitations"]
        return sum(size for _, size in sizes) / 1048576

    med = {key: {k: statistics.median(r[k] for r in reads[key]) for k in ["rps", "p50", "p99", "cpu_us", "server_cpu_us"]}
           for key in sets}
    errors = sum(r["errors"] for key in sets for r in reads[key]) + sum(p["errors"] for p in patches.values())

    def verdict(x):
        return "holds" if x <= GROWTH_TARGET else "**missed**"

    read_cpu = med["grown"]["cpu_us"] / med["large"]["cpu_us"]
    read_p50 = med["grown"]["p50"] / med["large"]["p50"]
    patch_cpu = patches["grown"]["cpu_us"] / patches["large"]["cpu_us"]
    patch_p50 = patches["grown"]["p50"] / patches["large"]["p50"]
    spread = max(r["cpu_us"] for r in reads["large"]) / min(r["cpu_us"] for r in reads["large"])

    def numbered(patch):
        return "not within 600 s" if patch["numbered_s"] is None else f"{patch['numbered_s']:.1f} s"

    caught_up = all(p["numbered_s"] is not None and p["numbered_s"] <= NUMBERING_TARGET for p in patches.values())
    numbering_verdict = "holds" if caught_up else "**missed**"
    return "\n".join([
        "## Growth: the same requests on ten times the data",
        "",
        f"large: {sets['large']['users']:,} users, {sets['large']['events']:,} events, {invitations('large'):,} invitations "
        f"(the invitations table and its indexes {table_mib('large'):,.0f} MiB); grown: {sets['grown']['users']:,} users, "
        f"{sets['grown']['events']:,} events, {invitations('grown'):,} invitations ({table_mib('grown'):,.0f} MiB). "
        f"The read (wrk -t2 -c{CONNECTIONS}, {SECONDS} s) alternates between the two sets' servers in each of "
        f"{RUNS} rounds (medians); then `PATCH` accepts of fresh pending invitations on each ({SECONDS} s). CPU per "
        "request: the whole machine's (every process and the kernel, /proc/stat) over the scenario ÷ its requests.",
        "",
        "| scenario | large: req/s, p50, p99 ms, CPU µs | grown: req/s, p50, p99 ms, CPU µs | grown ÷ large: p50, CPU | target | verdict |",
        "|---|---|---|---|---|---|",
        f"| GET received-invitations?status=pending | {med['large']['rps']:,.0f}, {med['large']['p50']:.2f}, {med['large']['p99']:.2f}, "
        f"{med['large']['cpu_us']:.0f} | {med['grown']['rps']:,.0f}, {med['grown']['p50']:.2f}, {med['grown']['p99']:.2f}, "
        f"{med['grown']['cpu_us']:.0f} | {read_p50:.2f}, **{read_cpu:.2f}** | CPU ≤ {GROWTH_TARGET:.2f} × | {verdict(read_cpu)} |",
        f"| PATCH invitations/{{id}} (accept) | {patches['large']['rps']:,.0f}, {patches['large']['p50']:.2f}, "
        f"{patches['large']['p99']:.2f}, {patches['large']['cpu_us']:.0f} | {patches['grown']['rps']:,.0f}, "
        f"{patches['grown']['p50']:.2f}, {patches['grown']['p99']:.2f}, {patches['grown']['cpu_us']:.0f} | "
        f"{patch_p50:.2f}, **{patch_cpu:.2f}** | CPU ≤ {GROWTH_TARGET:.2f} × | {verdict(patch_cpu)} |",
        f"| the accepts' changes: staged when the accepts ended, seconds until all were numbered | "
        f"{patches['large']['staged']:,}, {numbered(patches['large'])} | {patches['grown']['staged']:,}, "
        f"{numbered(patches['grown'])} | | within {NUMBERING_TARGET:.0f} s on both | {numbering_verdict} |",
        f"| errors, every scenario | | | {errors} | 0 | {'holds' if errors == 0 else '**missed**'} |",
        "",
        f"Noise: the read's CPU per request on the large set moved by {spread:.2f} × between its rounds. "
        f"Rounds (large, grown; req/s, CPU µs): "
        + "; ".join(f"{a['rps']:.0f}, {a['cpu_us']:.0f} | {b['rps']:.0f}, {b['cpu_us']:.0f}" for a, b in zip(reads["large"], reads["grown"])) + ".",
        "",
    ])


def sqlite_only():
    """BENCH_ONLY=sqlite: the embedded default alone (no PostgreSQL), its own report."""
    commit = git_commit()
    result = sqlite_bench()
    text = "\n".join([f"Measured on commit `{commit}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
                      f"{os.cpu_count()} cores; {load_note()}.", "", sqlite_report(result)]) + "\n"
    (OUT / "report.md").write_text(text)
    print(text)


def seed_sqlite(path):
    """Same shape as the small PostgreSQL set, written with Python's sqlite3 (no CLI needed). Columns
    are named, so that later migrations' columns take their defaults."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    db = sqlite3.connect(path)

    def bid(kind, n):
        h = f"{1700000000000 + n * 10 + kind:012x}"
        return f"{h[:8]}-{h[8:12]}-7{kind:03x}-8{(n // 4096) % 4096:03x}-{n % 281474976710656:012x}"

    users, events, per_event, patch_events = 1000, 100, 100, 400
    db.executemany("INSERT INTO users (id, name, email, mobile, password_hash, created_at) VALUES (?, ?, ?, NULL, 'unset', ?)",
                   [(bid(1, n), f"User {n}", f"user{n}@bench.test", now) for n in range(1, users + 1)])
    db.executemany("INSERT INTO access_tokens (token_hash, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, datetime('now', '+30 days'), NULL)",
                   [(hashlib.sha256(f"bench-token-{n}".encode()).digest(), bid(1, n), now) for n in range(1, TOKENS + 1)])
    owned = [(e, e) for e in range(1, events + 1)] + [(events + p, users) for p in range(1, patch_events + 1)]
    db.executemany("INSERT INTO events (id, owner_id, title, description, location, starts_at, ends_at, members_count, created_at) "
                   "VALUES (?, ?, ?, NULL, NULL, NULL, NULL, 1, ?)",
                   [(bid(2, e), bid(1, owner), f"Event {e}", now) for e, owner in owned])
    db.executemany("INSERT INTO event_members (id, event_id, user_id, role, joined_at) VALUES (?, ?, ?, 'owner', ?)",
                   [(bid(3, e), bid(2, e), bid(1, owner), now) for e, owner in owned])
    rows, members = [], []
    for j in range(1, per_event + 1):
        for e in range(1, events + 1):
            k = (j - 1) * events + e
            invitee = ((e + j) % users) + 1
            status = "accepted" if j % 10 < 5 else "rejected" if j % 10 < 7 else "pending"
            rows.append((bid(4, k), bid(2, e), bid(1, e), bid(1, invitee), f"user{invitee}@bench.test", status, now,
                         None if status == "pending" else now))
            if status == "accepted":
                members.append((bid(5, k), bid(2, e), bid(1, invitee), now))
    patch = []
    for p in range(1, patch_events + 1):
        for t in range(1, TOKENS + 1):
            iid = bid(8, p * 100000 + t)
            rows.append((iid, bid(2, events + p), bid(1, users), bid(1, t), f"user{t}@bench.test", "pending", now, None))
            patch.append(f"bench-token-{t},{iid}")
    db.executemany("INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO event_members (id, event_id, user_id, role, joined_at) VALUES (?, ?, ?, 'member', ?)", members)
    db.commit()
    db.close()
    random.shuffle(patch)
    (OUT / "sqlite-patch.csv").write_text("\n".join(patch) + "\n")


def percentile(values, p):
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def server_sockets(port):
    """The server's TCP sockets on `port` by state: {'ESTABLISHED': n, 'CLOSE_WAIT': n, ...}."""
    names = {"01": "ESTABLISHED", "08": "CLOSE_WAIT", "06": "TIME_WAIT", "0A": "LISTEN"}
    counts = {}
    for table in ["/proc/net/tcp", "/proc/net/tcp6"]:
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                state = names.get(fields[3], fields[3])
                counts[state] = counts.get(state, 0) + 1
    return counts


HEARTBEAT_SECONDS = 15  # the stream's keep-alive comment (http-actix feed handlers, HEARTBEAT)


async def released(port, limit=45.0):
    """After the client closed its streams: waits until the server closed their connections (it
    notices at the next keep-alive write, until then they sit in CLOSE_WAIT), then one more
    keep-alive period, because the server frees the user's stream slots only at the tick after
    that (measured: sockets closed at ~15 s, slots free at ~30 s). Returns the seconds until the
    sockets were closed, or None if they still were not after `limit`."""
    started = time.monotonic()
    closed = None
    while time.monotonic() - started < limit:
        counts = server_sockets(port)
        if not counts.get("CLOSE_WAIT") and not counts.get("ESTABLISHED"):
            closed = time.monotonic() - started
            break
        await asyncio.sleep(0.25)
    if closed is None:
        log(f"the server still holds closed streams after {limit:.0f} s: {server_sockets(port)}")
    await asyncio.sleep(HEARTBEAT_SECONDS + 1.5)
    return closed


def stream_bench(url, db):
    """Live streams on one fresh server process: RSS per idle stream, fan-out latency of a change
    to every stream, and the read scenario with the streams open against without, alternating."""
    per_user = math.ceil(STREAMS / TOKENS)
    log(f"live streams: {STREAMS} streams ({TOKENS} users x {per_user}) on {db}")
    server = Server(url, OUT / "server-streams.log", {"STREAMS_PER_USER": str(max(5, per_user))})
    try:
        event_id = server.post("/api/v1/events", {"title": "Stream change 0"}, token="bench-token-1")["data"]["id"]
        psql(db, "-v", f"event_id={event_id}", "-f", str(BENCH / "streams.sql"))
        return asyncio.run(asyncio.wait_for(stream_phases(server, event_id, per_user), 60 + RUNS * (2 * SECONDS + 90)))
    finally:
        server.stop()
        log_text = (OUT / "server-streams.log").read_text()
        log(f"server log: {len(log_text.splitlines())} lines, {log_text.count('WARN')} WARN, {log_text.count('ERROR')} ERROR")


async def stream_phases(server, event_id, per_user):
    tokens = [f"bench-token-{n}" for n in range(1, TOKENS + 1)]
    read_env = {"BENCH_PATH": READ_PATH}
    result = {"streams": STREAMS, "per_user": per_user, "rounds": []}

    # 1. On the fresh process (no request but the stream event's creation yet, so little freed heap
    # for the streams to reuse): RSS before and with the streams open and idle, then the fan-out.
    rss_before = server.rss_kib()
    streams = sse.Streams(server.port, tokens, STREAMS)
    try:
        result["open_seconds"] = await streams.open()
        await asyncio.sleep(2)  # idle: nothing is sent to them but the 15 s keep-alive
        result["rss_before"], result["rss_open"] = rss_before, server.rss_kib()
        result["opened"] = len(streams.open_streams())
        result["refused"] = [(s.status, s.refusal[:200]) for s in streams.streams if s.status not in (None, 200)]
        result["failed"] = [s.error for s in streams.streams if s.status is None]
        result["fanout"] = await fan_out(server, streams, event_id)
        result["rss_fanout"] = server.rss_kib()
    finally:
        await streams.close()
    # An idle stream whose client went away is only dropped by the server when a write to it
    # fails (keep-alive every 15 s), and holds its user's slot until then: wait for that.
    result["release_seconds"] = [await released(server.port)]
    result["rss_closed"] = server.rss_kib()
    log(f"{result['opened']} streams open; RSS {rss_before} -> {result['rss_open']} KiB; "
        f"fan-out to the last stream p50 {percentile(result['fanout']['last'] or [math.nan], 50):.1f} ms")

    # 2. The read scenario without and with the streams open, alternating, after a warm-up.
    await asyncio.to_thread(wrk, server, "list.lua", read_env, seconds=min(5, SECONDS))
    for round_no in range(RUNS):
        without = await asyncio.to_thread(wrk, server, "list.lua", read_env)
        rss_before = server.rss_kib()
        streams = sse.Streams(server.port, tokens, STREAMS)
        try:
            await streams.open()
            await asyncio.sleep(2)
            round_result = {"without": without, "rss_before": rss_before, "rss_open": server.rss_kib(),
                            "opened": len(streams.open_streams()),
                            "refused": [s.status for s in streams.streams if s.status not in (None, 200)],
                            "failed": [s.error for s in streams.streams if s.status is None]}
            round_result["with"] = await asyncio.to_thread(wrk, server, "list.lua", read_env)
            round_result["live_after_read"] = len(streams.live())
        finally:
            await streams.close()
        result["release_seconds"].append(await released(server.port))
        result["rounds"].append(round_result)
        log(f"round {round_no + 1}: {round_result['opened']} streams open, read {without['rps']:.0f} req/s without, "
            f"{round_result['with']['rps']:.0f} with; RSS {rss_before} -> {round_result['rss_open']} KiB")
    return result


async def fan_out(server, streams, event_id):
    """STREAM_CHANGES changes of the event every stream's user belongs to, one after another: for
    each, the time from the changing request's HTTP response to the first, median and last stream
    receiving it."""
    client = sse.Client(server.port, "bench-token-1")
    first, median, last, missing, parsing, answer = [], [], [], [], [], []
    try:
        for k in range(1, STREAM_CHANGES + 1):
            done = streams.expect(k)
            busy = streams.busy
            sent = time.monotonic()
            status, body = await client.request("PATCH", f"/api/v1/events/{event_id}", {"title": f"Stream change {k}"})
            answered = time.monotonic()
            answer.append((answered - sent) * 1000)
            if status != 200:
                raise SystemExit(f"bench: PATCH of the stream event answered {status}: {body[:300]!r}")
            try:
                await asyncio.wait_for(done.wait(), 10)
            except asyncio.TimeoutError:
                pass
            parsing.append((streams.busy - busy) * 1000)
            arrivals = streams.arrivals.get(k, [])
            missing.append(streams.expected - len(arrivals))
            if arrivals:
                first.append((min(arrivals) - answered) * 1000)
                median.append((statistics.median(arrivals) - answered) * 1000)
                last.append((max(arrivals) - answered) * 1000)
            await asyncio.sleep(0.2)
    finally:
        await client.close()
    # Every open stream: each change exactly once, ids strictly increasing.
    complete = 0
    for stream in streams.open_streams():
        markers = [m for _, _, m, _ in stream.received if m is not None]
        ids = [i for i, _, _, _ in stream.received]
        if markers == list(range(1, STREAM_CHANGES + 1)) and ids == sorted(set(ids)):
            complete += 1
    return {"first": first, "median": median, "last": last, "missing": sum(missing), "complete": complete,
            "parsing": parsing, "answer": answer}


def stream_report(result, data_label, commit):
    rounds = result["rounds"]
    fan = result["fanout"]
    built = f"{datetime.datetime.fromtimestamp(BIN.stat().st_mtime, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    without = median_of([r["without"] for r in rounds], "rps")
    with_streams = median_of([r["with"] for r in rounds], "rps")
    n = result["opened"] or 1
    per_stream = (result["rss_open"] - result["rss_before"]) / n
    warm = ", ".join(f"{(r['rss_open'] - r['rss_before']) / (r['opened'] or 1):.1f}" for r in rounds)
    ms = lambda values, p: f"{percentile(values, p):.1f}" if values else "n/a"  # noqa: E731
    refused = len(result["refused"]) + sum(len(r["refused"]) for r in rounds)
    failed = len(result["failed"]) + sum(len(r["failed"]) for r in rounds)
    release = ", ".join("> 45" if t is None else f"{t:.1f}" for t in result["release_seconds"])
    still_open = ", ".join(f"{r['live_after_read']:,} of {r['opened']:,}" for r in rounds)
    lines = [
        "## Live streams (`GET /api/v1/me/stream`)",
        "",
        f"Measured on commit `{commit}` (binary built {built}), {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {data_label} data set, "
        f"one server process; {result['streams']:,} streams held by one asyncio loop in bench/run.py "
        f"({TOKENS} token users x {result['per_user']}, `STREAMS_PER_USER={max(5, result['per_user'])}`), all members of one event.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| streams open (200 and `retry:`) | {result['opened']:,} of {result['streams']:,} in {result['open_seconds']:.1f} s; "
        f"refused {refused}, failed {failed} (all openings) |",
        f"| server RSS (VmRSS), fresh process: before / with the streams open and idle 2 s | {result['rss_before'] / 1024:.1f} MiB / "
        f"{result['rss_open'] / 1024:.1f} MiB: **{per_stream:.1f} KiB per stream** |",
        f"| the same after warm-up reads, each round (KiB per stream) | {warm} |",
        f"| RSS after the fan-out / after closing the streams | {result['rss_fanout'] / 1024:.1f} MiB / {result['rss_closed'] / 1024:.1f} MiB |",
        f"| fan-out: response of the changing `PATCH /events/{{id}}` → **last** stream received it, p50 / p99 of {len(fan['last'])} changes | "
        f"**{ms(fan['last'], 50)} / {ms(fan['last'], 99)} ms** (max {ms(fan['last'], 100)}) |",
        f"| … → first stream / median stream, p50 | {ms(fan['first'], 50)} / {ms(fan['median'], 50)} ms |",
        f"| of which the client's own parsing of the {result['opened']:,} copies, p50 / the `PATCH` itself, p50 | "
        f"{ms(fan['parsing'], 50)} ms / {ms(fan['answer'], 50)} ms |",
        f"| every stream got every change exactly once, in order | {fan['complete']:,} of {result['opened']:,} streams; deliveries missing after 10 s: {fan['missing']} |",
        f"| streams still open after the read scenario (each round) | {still_open} |",
        f"| seconds until the server closed the connections of streams the client had closed (each closing; the bench then waits "
        f"{HEARTBEAT_SECONDS + 1.5:.1f} s more for their slots) | {release} |",
        f"| read scenario (`GET received-invitations?status=pending`, {CONNECTIONS} conns, {SECONDS} s), without / with the idle streams, medians of {len(rounds)} | "
        f"{without:.0f} / {with_streams:.0f} req/s: ratio **{with_streams / without:.2f}** (target ≥ 0.90) |",
        "",
        "| round | read without: req/s, p50, p99 ms | with streams open: req/s, p50, p99 ms | ratio | errors |",
        "|---|---|---|---|---|",
    ]
    for i, r in enumerate(rounds, 1):
        a, b = r["without"], r["with"]
        lines.append(f"| {i} | {a['rps']:.0f}, {a['p50']:.2f}, {a['p99']:.2f} | {b['rps']:.0f}, {b['p50']:.2f}, {b['p99']:.2f} | "
                     f"{b['rps'] / a['rps']:.2f} | {a['errors']} / {b['errors']} |")
    lines += ["", "Fan-out times are taken in the client's one event loop, which parses every stream's bytes itself: "
              f"they include its own time to get through them (an upper bound). With {len(fan['last'])} changes, p99 is their maximum.", ""]
    if result["refused"] or result["failed"]:
        lines += [f"First refusals: {result['refused'][:3]}; first failures: {result['failed'][:3]}", ""]
    return "\n".join(lines)


def delivery_bench(url):
    """Webhook delivery lag (bench/deliveries.py) on a fresh server process over `url`."""
    log(f"webhook delivery lag: {DELIVERY_RATE} changes/s for {SECONDS} s, alone and beside a stuck endpoint")
    server = Server(url, OUT / "server-deliveries.log", {"WEBHOOK_ALLOW_PRIVATE": "true"})
    try:
        result = asyncio.run(deliveries.phases(server, DELIVERY_RATE, SECONDS, DELIVERY_CLIENTS, percentile))
        (OUT / "delivery-lags.json").write_text(json.dumps({k: v.pop("lags") for k, v in result.items()}))
        return result
    finally:
        server.stop()


def delivery_report(result, commit):
    return deliveries.report(result, commit, DELIVERY_RATE, SECONDS, DELIVERY_CLIENTS)


def deliveries_only():
    """BENCH_ONLY=deliveries: the small set, the delivery lag, its own report."""
    commit = git_commit()
    url = create_database("em_bench_small", SMALL)
    text = delivery_report(delivery_bench(url), commit)
    (OUT / "report.md").write_text(text)
    print(text)


def git_commit():
    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True).stdout.strip()
    dirty = run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True).stdout.strip()
    described = commit + (" (with uncommitted changes)" if dirty else "")
    if "BENCH_BIN" in os.environ:
        described += f"; server binary {BIN}"
    return described


def streams_only():
    """BENCH_ONLY=streams: one data set, the live-stream part, its own report."""
    commit = git_commit()
    sizes = LARGE if STREAM_DATA == "large" else SMALL
    name = f"em_bench_{STREAM_DATA}"
    url = create_database(name, sizes)
    result = stream_bench(url, name)
    label = f"{STREAM_DATA} ({sizes['users']:,} users, {sizes['events'] * sizes['per_event']:,} invitations)"
    text = stream_report(result, label, commit)
    (OUT / "report.md").write_text(text)
    print(text)


def relation_sizes(db):
    """The on-disk size of the invitations table and of each of its indexes, then of every other
    table with its indexes together (pg_relation_size: the main fork, what the rows and index
    entries take), on the freshly seeded, vacuumed set."""
    invitations = psql(db, "-At", "-F", "|", "-c",
                       "SELECT 'table', pg_relation_size('invitations') UNION ALL "
                       "(SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       " WHERE i.indrelid = 'invitations'::regclass ORDER BY c.relname)", capture=True)
    others = psql(db, "-At", "-F", "|", "-c",
                  "SELECT c.relname, pg_relation_size(c.oid), "
                  "  (SELECT COALESCE(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i WHERE i.indrelid = c.oid) "
                  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('invitations') "
                  "  AND c.relname NOT LIKE 'bench_%' AND c.relname NOT LIKE '\\_\\_%' ORDER BY c.relname", capture=True)
    parse = lambda text: [line.split("|") for line in text.strip().splitlines() if line]  # noqa: E731
    return {"invitations": [(name, int(size)) for name, size in parse(invitations)],
            "others": [(name, int(table), int(indexes)) for name, table, indexes in parse(others)]}


def sizes_report(sizes):
    mib = lambda b: f"{b / 1048576:,.1f}"  # noqa: E731
    rows = [f"| {'**table**' if name == 'table' else f'`{name}`'} | {mib(size)} |" for name, size in sizes["invitations"]]
    indexes = sum(size for name, size in sizes["invitations"] if name != "table")
    others = [f"| `{name}` | {mib(table)} | {mib(indexes_)} |" for name, table, indexes_ in sizes["others"]]
    return "\n".join([
        "## On-disk sizes (large set, its seeded tables vacuumed and analyzed)",
        "",
        "| invitations: relation | MiB (pg_relation_size) |",
        "|---|---|",
        *rows,
        f"| all {len(sizes['invitations']) - 1} indexes | {mib(indexes)} |",
        "",
        "| other table | table MiB | its indexes MiB |",
        "|---|---|---|",
        *others,
        "",
    ])


def patch_and_sends(server, db, parts):
    """PATCH answers of fresh pending invitations (`patch`), then sends of 10/100/1,000 contacts to
    fresh events, one connection each so that the time is that of one request (`sends`)."""
    results = {}
    if "patch" in parts:
        patch_file = export_pairs(db, "bench_patch", "token, invitation_id")
        results["patch"] = wrk(server, "patch.lua", {"BENCH_FILE": str(patch_file)})
        log(f"PATCH: {results['patch']['rps']:.0f} req/s, p50 {results['patch']['p50']:.1f} ms, "
            f"p99 {results['patch']['p99']:.1f} ms, errors {results['patch']['errors']}")
        results["patch_ceiling"] = write_ceiling(db, "pgbench-accept.sql", CONNECTIONS, "bench_accept")
        c = results["patch_ceiling"]
        log(f"pgbench, the accept's statements: {c['tps']:.0f} tps, p50 {c['p50']:.1f} ms, p99 {c['p99']:.1f} ms, "
            f"errors {c['errors']}")
    if "sends" in parts:
        send_file = export_pairs(db, "bench_send", "token, event_id")
        lines = send_file.read_text().splitlines()
        results["sends"] = {}
        for n, chunk in zip([10, 100, 1000], [lines[:12000], lines[12000:18000], lines[18000:]]):
            chunk_file = OUT / f"send-{n}.csv"
            chunk_file.write_text("\n".join(chunk) + "\n")
            results["sends"][n] = wrk(server, "send.lua", {"BENCH_FILE": str(chunk_file), "BENCH_CONTACTS": str(n),
                                                          "BENCH_USERS": str(LARGE["users"])}, connections=1, threads=1)
            r = results["sends"][n]
            log(f"send {n}: {r['rps']:.1f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, errors {r['errors']}")
            if n == 10:
                results["send_ceiling"] = write_ceiling(db, "pgbench-send.sql", 1, "bench_send_ceiling",
                                                        {"users": LARGE["users"]})
                c = results["send_ceiling"]
                log(f"pgbench, the 10-contact send's statements: {c['tps']:.0f} tps, p50 {c['p50']:.1f} ms, "
                    f"p99 {c['p99']:.1f} ms, errors {c['errors']}")
    return results


def write_rows(results):
    """The report's rows for the PATCH and send results."""
    rows = []

    def row(name, r, extra=""):
        rows.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {extra} |")

    if "patch" in results:
        row("PATCH invitations/{id} (accept)", results["patch"], f"load average {results['patch']['load']:.1f}")
        rows.append(ceiling_row("pgbench: the accept's statements (bench/pgbench-accept.sql)", results["patch"],
                                results["patch_ceiling"]))
    sends = results.get("sends", {})
    for n in sorted(sends):
        extra = (f"p50 ÷ 10-contact p50 = **{sends[n]['p50'] / sends[10]['p50']:.1f}**" if n != 10
                 else "same statement count for any size (contract test)")
        row(f"POST send-invitations, {n} contacts (1 connection)", sends[n], f"{extra}; load average {sends[n]['load']:.1f}")
        if n == 10 and "send_ceiling" in results:
            rows.append(ceiling_row("pgbench: the 10-contact send's statements (bench/pgbench-send.sql, 1 client)",
                                    sends[n], results["send_ceiling"]))
    if 1000 in sends:
        rows.append("| pgbench: the 1,000-contact send's statements | | | | | not measured: its batch binds 10,000 "
                    "values in one statement, and pgbench binds at most 255 |")
    return rows


# The targets of the write ceilings (docs/performance.md, "Targets").
WRITE_CEILING_TARGET = 0.7
# The read's, at both connection counts: throughput ÷ pgbench on the two statements of a read
# whose token is looked up (bench/pgbench-read.sql), and p99 ÷ pgbench's.
READ_TARGET = 1.0
READ_P99_TARGET = 1.5


def ceiling_row(name, service, ceiling):
    """A report row for pgbench on a write request's statements, with service ÷ pgbench."""
    ratio = service["rps"] / ceiling["tps"] if ceiling["tps"] else 0.0
    verdict = "holds" if ratio >= WRITE_CEILING_TARGET and service["errors"] == 0 else "**missed**"
    if ceiling.get("effect"):
        verdict = f"**no verdict**: {ceiling['effect']}"
    wrapped = "; clients wrapped around to rows already written" if ceiling.get("wrapped") else ""
    return (f"| {name} | {ceiling['tps']:.0f} | {ceiling['p50']:.2f} | {ceiling['p99']:.2f} | {ceiling['errors']} | "
            f"service ÷ pgbench: throughput **{ratio:.2f}** (target ≥ {WRITE_CEILING_TARGET}: {verdict}), "
            f"p99 {service['p99'] / ceiling['p99']:.2f} ×; pgbench's transaction also reads which row to write "
            f"(one primary-key read){wrapped} |")


PARTS = ["read", "peer", "patch", "sends", "streams", "pooler"]


def partial(parts):
    """BENCH_ONLY=<parts>: the large set and only the parts named (in PARTS' order), its own report."""
    commit = git_commit()
    url = create_database("em_bench_large", LARGE)
    sizes = relation_sizes("em_bench_large")
    server = Server(url, OUT / "server-large.log")
    tails, writes, peers = [], {}, []
    try:
        if "read" in parts:
            for round_no in range(RUNS):
                log(f"read round {round_no + 1} of {RUNS} (load average {os.getloadavg()[0]:.1f})")
                tails.append(tail_round(server, "em_bench_large"))
        rss_read = server.peak_rss_mib()
        peers = peer_rounds(server, url) if "peer" in parts else []
        writes = patch_and_sends(server, "em_bench_large", parts)
    finally:
        server.stop()
    through_pooler = {}
    if "pooler" in parts:
        through_pooler = pooler.pooler_bench(Server, wrk, log, OUT, PG, "em_bench_large", READ_PATH)
    if tails:
        (OUT / "tail-rounds.json").write_text(json.dumps(tails, indent=1))
    (OUT / "partial.json").write_text(json.dumps({"sizes": sizes, "tails": tails, "peers": peers, "writes": writes}, indent=1))
    invitations = LARGE["events"] * LARGE["per_event"]
    report = [
        f"Data: large = {LARGE['users']:,} users, {LARGE['events']:,} events, {invitations:,} invitations. "
        f"Only these parts: {', '.join(p for p in PARTS if p in parts)} (BENCH_ONLY={ONLY}).",
        "",
        f"Measured on commit `{commit}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores; server and load on one machine; {pg_server_note()}; {load_note()}.",
        "",
        sizes_report(sizes),
    ]
    if tails:
        report += [tail_report(tails), f"Peak RSS of the server after the read scenarios: **{rss_read:.1f} MiB**.", ""]
    if peers:
        report += [peer_report(peers)]
    if writes:
        report += ["| scenario | req/s | p50 ms | p99 ms | errors | notes |", "|---|---|---|---|---|---|", *write_rows(writes), ""]
    if "streams" in parts:
        report += [stream_report(stream_bench(url, "em_bench_large"), "large", commit)]
    if through_pooler:
        report += [pooler.pooler_report(through_pooler)]
    text = "\n".join(report) + "\n"
    (OUT / "report.md").write_text(text)
    print(text)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    build()
    if ONLY == "streams":
        return streams_only()
    if ONLY == "deliveries":
        return deliveries_only()
    if ONLY == "sqlite":
        return sqlite_only()
    if ONLY == "growth":
        return growth_only()
    if ONLY:
        parts = set(ONLY.split(","))
        if not parts <= set(PARTS):
            sys.exit(f"bench: BENCH_ONLY={ONLY!r}: deliveries, streams, sqlite or growth alone, or a comma-separated list of {', '.join(PARTS)}")
        return partial(parts)
    commit = git_commit()

    small_url = create_database("em_bench_small", SMALL)
    large_url = create_database("em_bench_large", LARGE)
    sizes = relation_sizes("em_bench_large")
    small = Server(small_url, OUT / "server-small.log")
    small.post("/api/v1/register", {"name": "Hash", "email": "hash@bench.test", "password": PASSWORD})
    phc = psql("em_bench_small", "-At", "-c", "SELECT password_hash FROM users WHERE email = 'hash@bench.test'", capture=True).strip()
    set_password_hashes(["em_bench_small", "em_bench_large"], phc)
    server = Server(large_url, OUT / "server-large.log")

    rows = []
    # Small and large sets alternate, each beside its pgbench ceiling, so that drift on the shared
    # machine hits both alike. The ceiling: pgbench with the service's concurrency (32 clients)
    # and with its pool's (10 connections, what PostgreSQL sees from the service); the better counts.
    log("read scenario on both data sets and its pgbench ceiling, alternating")
    # Each round also measures the read at HIGH_CONNECTIONS beside pgbench with as many clients
    # (tail_round), and takes every pgbench's p50/p99 from its per-transaction log.
    received, small_received, ceilings, ceilings_32, ceilings_pool, tails = [], [], [], [], [], []
    for round_no in range(RUNS):
        log(f"read round {round_no + 1} of {RUNS} (load average {os.getloadavg()[0]:.1f})")
        small_received.append(wrk(small, "list.lua", {"BENCH_PATH": "/api/v1/received-invitations?status=pending"}))
        tails.append(tail_round(server, "em_bench_large"))
        received.append(tails[-1][CONNECTIONS]["service"])
        ceilings_32.append(tails[-1][CONNECTIONS]["pgbench"].get("tps", 0.0))
        ceilings_pool.append(pgbench("em_bench_large", clients=10)["tps"])
        ceilings.append(max(ceilings_32[-1], ceilings_pool[-1]))
    small_sent = wrk(small, "list.lua", {"BENCH_PATH": "/api/v1/sended-invitations?status=all"})
    small.stop()
    rss_read = server.peak_rss_mib()
    log("the read beside its FastAPI peer")
    peers = peer_rounds(server, large_url)
    sent = wrk(server, "list.lua", {"BENCH_PATH": "/api/v1/sended-invitations?status=all"})

    log("read scenario beside 10 logins/s, then beside a login flood")
    paced = wrk_background(server, "login.lua", {"BENCH_USERS": str(LARGE["users"]), "BENCH_DELAY_MS": "100"}, connections=2)
    with_logins = wrk(server, "list.lua", {"BENCH_PATH": "/api/v1/received-invitations?status=pending"})
    paced_result = background_result(paced)
    flood = wrk_background(server, "login.lua", {"BENCH_USERS": str(LARGE["users"])}, connections=64, threads=1)
    with_flood = wrk(server, "list.lua", {"BENCH_PATH": "/api/v1/received-invitations?status=pending"})
    flood_result = background_result(flood)
    # Each login hashes with argon2id's 19 MiB: the peak after 64 at a time shows whether those
    # buffers stay with a few hashing threads or pile up (docs/security.md).
    rss_flood = server.peak_rss_mib()

    log("writes: answers and sends")
    writes = patch_and_sends(server, "em_bench_large", {"patch", "sends"})
    login = wrk(server, "login.lua", {"BENCH_USERS": str(LARGE["users"])})
    server.stop()

    streams = stream_bench(large_url, "em_bench_large")
    delivery = delivery_bench(small_url)
    log("the read through PgBouncer and HAProxy, beside direct connections")
    through_pooler = pooler.pooler_bench(Server, wrk, log, OUT, PG, "em_bench_large", READ_PATH)

    log("EXPLAIN of the list queries")
    explain = psql("em_bench_large", "-f", str(BENCH / "explain.sql"), capture=True)

    log("SQLite")
    sqlite = sqlite_bench()

    def row(name, r, extra=""):
        rows.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {extra} |")

    ceiling = statistics.median(ceilings)
    read_rps = median_of(received, "rps")
    read = {"rps": read_rps, "p50": median_of(received, "p50"), "p99": median_of(received, "p99"), "errors": sum(r["errors"] for r in received)}
    small_read = {"rps": median_of(small_received, "rps"), "p50": median_of(small_received, "p50"), "p99": median_of(small_received, "p99"), "errors": sum(r["errors"] for r in small_received)}
    row("GET received-invitations?status=pending (large)", read,
        f"pgbench ceiling {ceiling:.0f} tps (32 clients {statistics.median(ceilings_32):.0f}, 10 clients {statistics.median(ceilings_pool):.0f}); "
        f"ratio **{read_rps / ceiling:.2f}** (medians of {RUNS})")
    row("GET received-invitations?status=pending (small)", small_read, f"growth: p50 1M ÷ 10k = **{read['p50'] / small_read['p50']:.2f}**")
    row("GET sended-invitations?status=all (large)", sent, f"small: {small_sent['p50']:.2f} ms p50; growth **{sent['p50'] / small_sent['p50']:.2f}**")
    row("read beside 10 logins/s", with_logins, f"p99 ÷ alone = **{with_logins['p99'] / read['p99']:.2f}**; logins {paced_result['rps']:.1f}/s, p50 {paced_result['p50']:.0f} ms")
    row("read beside a login flood (64 conns)", with_flood, f"p99 ÷ alone = {with_flood['p99'] / read['p99']:.2f}; logins {flood_result['rps']:.0f}/s")
    rows.extend(write_rows(writes))
    row("POST login (argon2id)", login)

    invitations = LARGE["events"] * LARGE["per_event"]
    report = [
        f"Data: large = {LARGE['users']:,} users, {LARGE['events']:,} events, {invitations:,} invitations (+ {LARGE['patch_events'] * TOKENS:,} pending for PATCH); "
        f"small = {SMALL['users']:,} users, {SMALL['events']:,} events, {SMALL['events'] * SMALL['per_event']:,} invitations.",
        "",
        f"Measured on commit `{commit}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores; wrk {CONNECTIONS} connections, {SECONDS} s per scenario; server and load on one machine; "
        f"{pg_server_note()}; {load_note()}.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | errors | notes |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Peak RSS of the server after the read scenarios: **{rss_read:.1f} MiB**; after the login flood "
        f"(64 connections, {flood_result['rps']:.0f} logins/s): **{rss_flood:.1f} MiB** (ratio {rss_flood / rss_read:.2f}).",
        "",
        "```",
        explain.strip(),
        "```",
    ]
    (OUT / "tail-rounds.json").write_text(json.dumps(tails, indent=1))
    report += ["", sizes_report(sizes), tail_report(tails), peer_report(peers), stream_report(streams, "large", commit),
               delivery_report(delivery, commit), pooler.pooler_report(through_pooler), sqlite_report(sqlite)]
    text = "\n".join(report) + "\n"
    (OUT / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
