#!/usr/bin/env python3
"""Instructions per warm read request, by step, with valgrind's callgrind (docs/performance.md,
"Profile of a read request"). Instruction counts do not depend on what else the machine runs, so
this is the figure to compare between builds on a shared machine.

Runs the release binary (BENCH_BIN, default target/release/event-manager) under
`valgrind --tool=callgrind --instr-atstart=no` on a database the bench seeded (PROFILE_DB, default
em_bench_large on BENCH_PG), sends PROFILE_WARMUP requests, then switches instrumentation on for
exactly PROFILE_REQUESTS more (one keep-alive connection, one request at a time, the bench's 100
tokens in turn), off again, and dumps. Then it attributes the counted instructions to the steps of a
request by inclusive cost of the functions that make them (STEPS below) and prints a table per
request. The raw profile stays in bench/out/callgrind.out for callgrind_annotate or kcachegrind.

    BENCH_PG=postgres://postgres@127.0.0.1:5433 python3 bench/profile.py

The database must have been seeded by `make bench` (BENCH_ONLY=read is enough) with the binary's
schema. Needs valgrind (Debian: apt-get install valgrind).
"""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(os.environ.get("BENCH_BIN", ROOT / "target" / "release" / "event-manager"))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("PROFILE_DB", "em_bench_large")
WARMUP = int(os.environ.get("PROFILE_WARMUP", "300"))
REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "1000"))
PATH = os.environ.get("PROFILE_PATH", "/api/v1/received-invitations?status=pending&limit=50")

# Each step: a name and the functions whose inclusive instructions it is (regular expressions on
# callgrind_annotate's "file:function" names; for each, the largest matching entry, the outermost).
# Steps are disjoint; "database" is everything the blocking threads ran, split below it into its
# parts (indented names), and the rest of the worker's instructions (actix's service chain and the
# middlewares' own work, tokio's scheduling, the allocator) is reported as "other".
STEPS = [
    ("HTTP: parse the request (actix h1 codec)", [r"Codec as tokio_util::codec::decoder::Decoder>::decode"]),
    ("HTTP: write the response head (actix h1 codec)", [r"Codec as tokio_util::codec::encoder::Encoder<"]),
    ("routing and extractors (path, query, cursor scope)", [r"actix_web::rmap::ResourceMap::match_pattern",
                                                            r"tuple_from_req::<impl actix_web::extract::FromRequest for \(A,B,C\)>::from_request \("]),
    ("request span (tracing-actix-web, at RUST_LOG=warn)", [r"TracingLoggerMiddleware<S,RootSpanType> as actix_service::Service<actix_web::service::ServiceRequest>>::call \(",
                                                            r"RootSpanBuilder>::on_request_start \(", r"RootSpanBuilder>::on_request_end \("]),
    ("metrics (request histogram; no recorder unless METRICS_BIND_ADDR)", [r"http-actix/src/metrics\.rs:"]),
    ("bearer token digest (SHA-256)", [r"TokenIssuer>::digest \("]),
    ("hops to the database threads, worker side: queueing the call, its timer, the answer (user space)",
     [r"tokio::runtime::blocking::pool::spawn_blocking$", r"OwnedSemaphorePermit as core::ops::drop::Drop>::drop",
      r"batch_semaphore::Acquire as core::future::future::Future>::poll", r"adapters_diesel::db::pool::Queue::push",
      r"tokio::time::sleep::Sleep", r"TimerEntry as core::ops::drop::Drop>::drop", r"tokio::sync::oneshot::Receiver<T> as core::future::future::Future>::poll"]),
    ("database, client side (the blocking closures: spawn_blocking before, the database threads now)",
     [r"tokio::runtime::blocking::pool::Inner::run$", r"adapters_diesel::db::pool::Queue::serve$"]),
    ("  - SQL text and the prepared statement cache", [r"with_prepared_query::prepare_query_non_generic_inner \(",
                                                       r"SerializedQuery<T,C> as diesel::query_builder::QueryFragment<DB>>::walk_ast \("]),
    ("  - libpq: send, wait, receive and parse the result", [r"diesel::pg::connection::stmt::Statement::execute \("]),
    ("  - decoding the rows (diesel)", [r"LoadIter<U,C,ST,DB> as core::iter::traits::iterator::Iterator>::next"]),
    ("  - rows to domain values", [r"adapters_diesel::rows::invitation_details"]),
    ("JSON: body structs, the signed cursor, serde_json, dropping them", [r"HttpResponseBuilder::json \(", r"http_actix::pagination::Paginated<T>::new \(",
                                                                          r"drop_in_place<http_actix::pagination::Paginated<"]),
]


def log(message):
    print(f"profile: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("profile: the server under valgrind did not become ready")


def requests(port, count, start):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sizes = set()
    for i in range(count):
        token = f"bench-token-{(start + i) % 100 + 1}"
        conn.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"profile: {response.status} {body[:200]!r}")
        sizes.add(body.count(b'"contact"'))
    conn.close()
    return sizes


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / "callgrind.out"
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"{PG}/{DB}?sslmode=disable", BIND_ADDR=f"127.0.0.1:{port}",
               RUST_LOG="warn", LOGIN_FAILURES_PER_ACCOUNT="0", LOGIN_FAILURES_PER_ADDRESS="0",
               SEND_INVITATIONS_PER_USER="0", LOGIN_FAILURES_PER_ACCOUNT_ADDRESS="0", REGISTRATIONS_PER_ADDRESS="0",
               SEND_RECIPIENTS_PER_DAY="0", SEND_RECIPIENTS_PER_DAY_ESTABLISHED="0", MESSAGES_PER_RECIPIENT_PER_DAY="0",
               EVENTS_PER_USER_PER_DAY="0", EVENT_EDITS_PER_USER_PER_MINUTE="0",
               EVENT_NOTICES_PER_USER_PER_HOUR="0",
               STREAM_TICKETS_PER_USER_PER_MINUTE="0")
    server = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                               str(BIN), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=open(OUT / "callgrind.log", "w"))
    try:
        wait_ready(port)
        log(f"warming up: {WARMUP} requests")
        requests(port, WARMUP, 0)
        subprocess.run(["callgrind_control", "-i", "on", str(server.pid)], check=True, capture_output=True)
        started = time.monotonic()
        sizes = requests(port, REQUESTS, WARMUP)
        took = time.monotonic() - started
        subprocess.run(["callgrind_control", "-i", "off", str(server.pid)], check=True, capture_output=True)
        log(f"{REQUESTS} requests counted in {took:.0f} s; invitations per page: {sorted(sizes)}")
    finally:
        server.terminate()
        server.wait(timeout=120)
    files = sorted(OUT.glob("callgrind.out*"), key=lambda p: p.stat().st_mtime)
    report(files[-1], REQUESTS)


def report(path, count):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                          capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text, re.M).group(1).replace(",", ""))
    rows = []
    for line in text.splitlines():
        found = re.match(r"^\s*([\d,]+) \([\d. %]+\)\s+(\S.*?)\s*$", line)
        if found:
            rows.append((int(found.group(1).replace(",", "")), found.group(2)))
    lines = [f"instructions per request (callgrind, {count} warm requests of {PATH}); total {total / count:,.0f}", "",
             "| step | instructions per request | share |", "|---|---|---|"]
    accounted = 0
    for name, patterns in STEPS:
        cost = 0
        for pattern in patterns:
            matches = [ir for ir, fn in rows if re.search(pattern, fn)]
            cost += max(matches) if matches else 0
        if not name.startswith("  "):
            accounted += cost
        lines.append(f"| {name} | {cost / count:,.0f} | {100 * cost / total:.1f} % |")
    lines.append(f"| other: actix's service chain and the middlewares' own work, tokio's scheduling, allocator | "
                 f"{(total - accounted) / count:,.0f} | {100 * (total - accounted) / total:.1f} % |")
    lines += ["", "Top functions by inclusive instructions per request:", ""]
    for ir, fn in rows[:60]:
        lines.append(f"{ir / count:>12,.0f}  {fn[:160]}")
    text_out = "\n".join(lines) + "\n"
    (OUT / "profile.md").write_text(text_out)
    print(text_out)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        report(Path(sys.argv[2]), REQUESTS)
    else:
        main()
