#!/usr/bin/env python3
"""Alternated rounds of the read scenario for several servers at once, with pgbench's ceiling in
each round (docs/performance.md, "Comparing builds and settings"). For a before/after pair on a
shared machine, where two separate runs differ by more than the change: every server is up for the
whole sitting, and each round runs wrk against each of them in turn, then pgbench on the read's two
statements, so that drift hits all alike.

    AB_CONFIGS='{"before": ["/tmp/em-before", {}], "after": ["target/release/event-manager", {}],
                 "pool5": ["target/release/event-manager", {"DATABASE_POOL_SIZE": "5"}]}' \\
    BENCH_PG=postgres://postgres@127.0.0.1:5433 python3 bench/ab.py

AB_CONFIGS names each server: its binary (relative to the repository) and the environment it runs
with (beside the bench's own, bench/run.py's `Server`). The servers take turns in a rotating order:
in each round a different one goes first. AB_ROUNDS (4) rounds of BENCH_SECONDS (15) at
AB_CONNECTIONS (32) connections (after a warm-up of 3 s each), then one run of each at 128
connections, after which each server's peak RSS is read. The database is the large set a
`make bench` seeded (`em_bench_large` on BENCH_PG; `BENCH_ONLY=read` is enough), whose
`max_connections` must hold every server's pool (10 each by default, and a listener) beside
AB_CONNECTIONS pgbench clients. Prints every round, then per server the medians: req/s, the
machine's CPU a request (every process and the kernel) and the server's own, and its throughput
÷ pgbench's, round by round.
"""

import importlib.util
import json
import os
import statistics
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).resolve().parent / "run.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

CONFIGS = json.loads(os.environ.get("AB_CONFIGS", "{}"))
ROUNDS = int(os.environ.get("AB_ROUNDS", "4"))
CONNECTIONS = int(os.environ.get("AB_CONNECTIONS", "32"))
DB = "em_bench_large"


def read(server, connections, seconds=bench.SECONDS):
    return bench.measured_wrk(server, "list.lua", {"BENCH_PATH": bench.READ_PATH},
                              connections=connections, seconds=seconds)


def main():
    if not CONFIGS:
        sys.exit(__doc__)
    bench.ensure_tools()
    bench.OUT.mkdir(parents=True, exist_ok=True)
    url = f"{bench.PG}/{DB}?sslmode=disable"
    servers = {}
    runs = {name: [] for name in CONFIGS}
    ceilings = []
    try:
        for name, (binary, env) in CONFIGS.items():
            bench.BIN = bench.ROOT / binary
            servers[name] = bench.Server(url, bench.OUT / f"ab-{name}.log", {k: str(v) for k, v in env.items()})
            print(f"{name}: {bench.BIN} {env or ''}", flush=True)
        for server in servers.values():
            # Warm: its pool's connections open, its statements prepared, its token cache filled.
            read(server, CONNECTIONS, seconds=3)
        print(f"{ROUNDS} rounds of {bench.SECONDS} s at {CONNECTIONS} connections; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        names = list(servers)
        for n in range(1, ROUNDS + 1):
            for name in names[(n - 1) % len(names):] + names[:(n - 1) % len(names)]:
                server = servers[name]
                r = read(server, CONNECTIONS)
                runs[name].append(r)
                print(f"round {n} {name}: {r['rps']:.0f} req/s, p99 {r['p99']:.1f} ms, CPU a request "
                      f"{r['cpu_us']:.0f} us (server {r['server_cpu_us']:.0f}), load {r['load']:.1f}", flush=True)
            c = bench.measured_pgbench(DB, CONNECTIONS)
            ceilings.append(c)
            print(f"round {n} pgbench: {c['tps']:.0f} tps, p99 {c['p99']:.1f} ms, CPU a transaction "
                  f"{c['cpu_us']:.0f} us", flush=True)
        print()
        for name, rs in runs.items():
            ratios = [r["rps"] / c["tps"] for r, c in zip(rs, ceilings)]
            print(f"{name}: {statistics.median(r['rps'] for r in rs):.0f} req/s, CPU a request "
                  f"{statistics.median(r['cpu_us'] for r in rs):.0f} us (server "
                  f"{statistics.median(r['server_cpu_us'] for r in rs):.0f}), ÷ pgbench "
                  f"{statistics.median(ratios):.2f} (rounds {', '.join(f'{x:.2f}' for x in ratios)})")
        print(f"pgbench: {statistics.median(c['tps'] for c in ceilings):.0f} tps, CPU a transaction "
              f"{statistics.median(c['cpu_us'] for c in ceilings):.0f} us")
        for name, server in servers.items():
            r = read(server, 128)
            print(f"{name} at 128 connections: {r['rps']:.0f} req/s, CPU a request {r['cpu_us']:.0f} us "
                  f"(server {r['server_cpu_us']:.0f}); peak RSS {server.peak_rss_mib():.1f} MiB", flush=True)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
