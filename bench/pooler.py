"""The read scenario through the scaled-out shape (docs/operations.md, "Behind a pooler"), beside
direct connections, in one run: `BENCH_ONLY=pooler` (part of bench/run.py).

Four set-ups over the same database, each measured with the same wrk scenario (the read of
bench/run.py, `GET received-invitations?status=pending`, BENCH_CONNECTIONS connections,
BENCH_SECONDS each), one after the other:

  1. one process, direct to PostgreSQL, prepared statements on (the default);
  2. one process, direct, `DATABASE_PREPARED_STATEMENTS=false`;
  3. one process through PgBouncer (Debian's, 1.18) in transaction mode, prepared statements off;
  4. HAProxy round robin over three processes, each through that PgBouncer.

Each row gives req/s, p50, p99 and errors, and its throughput ratio to set-up 1. All of it runs on
this machine, beside PostgreSQL and wrk: set-up 4 shows what the extra hops cost on two cores,
not what three machines would add.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class _Balancer:
    """HAProxy on a free port, round robin over `urls`; `.url` for wrk."""

    def __init__(self, urls: list[str], workdir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(
            f"  server app{n} {urlparse(u).netloc}" for n, u in enumerate(urls, start=1)
        )
        config = workdir / "haproxy.cfg"
        config.write_text(
            "global\n  maxconn 4000\ndefaults\n  mode http\n  timeout connect 2s\n"
            "  timeout client 60s\n  timeout server 60s\n"
            f"frontend api\n  bind 127.0.0.1:{self.port}\n"
            "  http-request del-header X-Forwarded-For\n  option forwardfor\n"
            "  default_backend app\nbackend app\n  balance roundrobin\n"
            f"{servers}\n"
        )
        self.process = subprocess.Popen(["haproxy", "-f", str(config), "-db"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{self.url}/health/live", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("bench: HAProxy did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class _Bouncer:
    """PgBouncer in transaction mode in front of `pg` (a server URL), for database `db`."""

    def __init__(self, pg: str, db: str, workdir: Path):
        server = urlparse(pg)
        self.port = _free_port()
        self.dir = workdir
        if os.geteuid() == 0:
            shutil.chown(workdir, "postgres", "postgres")
        ini = workdir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"{db} = host={server.hostname} port={server.port or 5432} dbname={db} "
            f"user={server.username or 'postgres'} connect_query='SET statement_timeout = 5000; "
            "SET lock_timeout = 3000; SET idle_in_transaction_session_timeout = 10000'\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {workdir}/userlist.txt\n"
            "pool_mode = transaction\ndefault_pool_size = 20\nmax_client_conn = 1000\n"
            "server_reset_query =\nignore_startup_parameters = extra_float_digits\n"
            f"logfile = {workdir}/pgbouncer.log\npidfile = {workdir}/pgbouncer.pid\n"
        )
        (workdir / "userlist.txt").write_text('"postgres" ""\n')
        for path in (ini, workdir / "userlist.txt"):
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        subprocess.run(_as_postgres(["pgbouncer", "-d", str(ini)]), check=True)
        self.url = f"postgres://{server.username or 'postgres'}@127.0.0.1:{self.port}/{db}"

    def stop(self):
        pid = (self.dir / "pgbouncer.pid").read_text().strip()
        subprocess.run(["kill", "-TERM", pid], check=False)


def pooler_bench(server_class, wrk, log, out: Path, pg: str, db: str, read_path: str) -> dict:
    """Runs the four set-ups; returns {label: wrk result}."""
    for tool in ("pgbouncer", "haproxy"):
        if shutil.which(tool) is None:
            subprocess.run(["apt-get", "install", "-y", "-q", "pgbouncer", "haproxy"],
                           check=True, capture_output=True)
            break
    workdir = Path(tempfile.mkdtemp(prefix="em-bench-pooler."))
    os.chmod(workdir, 0o755)
    direct = f"{pg}/{db}"
    results = {}
    bouncer = _Bouncer(pg, db, workdir)
    try:
        setups = [
            ("direct, prepared statements on", [direct], {}),
            ("direct, prepared statements off", [direct],
             {"DATABASE_PREPARED_STATEMENTS": "false"}),
            ("PgBouncer (transaction mode), prepared off", [bouncer.url],
             {"DATABASE_PREPARED_STATEMENTS": "false"}),
            ("HAProxy + 3 processes + PgBouncer", [bouncer.url] * 3,
             {"DATABASE_PREPARED_STATEMENTS": "false", "DATABASE_LISTEN_URL": direct,
              "HTTP_WORKERS": "1", "DATABASE_POOL_SIZE": "6"}),
        ]
        for label, urls, env in setups:
            servers = [server_class(url, out / f"server-pooler-{n}.log", env)
                       for n, url in enumerate(urls)]
            balancer = _Balancer([s.url for s in servers], workdir) if len(servers) > 1 else None
            try:
                target = balancer or servers[0]
                results[label] = wrk(target, "list.lua", {"BENCH_PATH": read_path})
                r = results[label]
                log(f"{label}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                    f"p99 {r['p99']:.1f} ms, errors {r['errors']}")
            finally:
                if balancer:
                    balancer.stop()
                for server in servers:
                    server.stop()
    finally:
        bouncer.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def pooler_report(results: dict) -> str:
    """The report's table: each set-up beside the first."""
    labels = list(results)
    base = results[labels[0]]["rps"]
    rows = [
        "The read scenario through the scaled-out shape (bench/pooler.py), one run, one after "
        "the other:",
        "",
        "| set-up | req/s | p50 ms | p99 ms | errors | ÷ direct, prepared on |",
        "|---|---|---|---|---|---|",
    ]
    for label in labels:
        r = results[label]
        rows.append(f"| {label} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                    f"{r['errors']} | **{r['rps'] / base:.2f}** |")
    return "\n".join(rows) + "\n"
