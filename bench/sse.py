"""Many live streams (`GET /api/v1/me/stream`, text/event-stream) from one asyncio event loop.

Standard library only: raw HTTP/1.1 over asyncio streams, chunked transfer decoding and a minimal
`text/event-stream` parser. Used by bench/run.py for the live-stream figures; only 127.0.0.1, every
wait bounded in time.
"""

import asyncio
import json
import re
import time

TITLE = re.compile(rb'"title":"Stream change (\d+)"')


class Stream:
    """One open stream: its status, the changes it received (id, event, marker, arrival time)."""

    def __init__(self, token):
        self.token = token
        self.status = None
        self.refusal = b""
        self.received = []  # (change id, event type, marker number or None, monotonic arrival)
        self.retry_seen = False
        self.ended = False
        self.error = None
        self.writer = None
        self.task = None
        self._raw = b""
        self._decoded = b""

    def _events(self, data):
        """Feeds decoded body bytes; yields complete SSE events as lists of (field, value)."""
        self._decoded += data
        while True:
            # Events end with a blank line; actix-web-lab writes "\n" line ends.
            end = self._decoded.find(b"\n\n")
            if end < 0:
                return
            block, self._decoded = self._decoded[:end], self._decoded[end + 2:]
            yield [line.partition(b":")[::2] for line in block.split(b"\n") if line]

    def _dechunk(self, data):
        """Feeds raw bytes of a chunked body; returns the payload bytes now complete."""
        self._raw += data
        out = []
        while True:
            line_end = self._raw.find(b"\r\n")
            if line_end < 0:
                break
            size = int(self._raw[:line_end].split(b";")[0], 16)
            if size == 0:
                self.ended = True
                break
            if len(self._raw) < line_end + 2 + size + 2:
                break
            out.append(self._raw[line_end + 2:line_end + 2 + size])
            self._raw = self._raw[line_end + 2 + size + 2:]
        return b"".join(out)

    def feed(self, data, chunked, hub):
        now = time.monotonic()
        payload = self._dechunk(data) if chunked else data
        for fields in self._events(payload):
            names = {name: value.strip() for name, value in fields}
            if b"retry" in names:
                self.retry_seen = True
            if b"id" in names and b"data" in names:
                match = TITLE.search(names[b"data"])
                marker = int(match.group(1)) if match else None
                self.received.append((int(names[b"id"]), names.get(b"event", b"").decode(), marker, now))
                if marker is not None:
                    hub.arrived(marker, now)


async def _read_head(reader, timeout):
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


class Streams:
    """Holds `count` streams spread over `tokens` (each token `count / len(tokens)` streams)."""

    def __init__(self, port, tokens, count, connect_concurrency=50, timeout=20.0):
        self.port = port
        self.tokens = tokens
        self.count = count
        self.connect_concurrency = connect_concurrency
        self.timeout = timeout
        self.streams = []
        self.arrivals = {}  # marker -> arrival times, one per stream that received it
        self.waiters = {}  # marker -> asyncio.Event, set once every stream received it
        self.expected = count  # the streams that answered 200, once open() returns
        self.busy = 0.0  # seconds this loop spent parsing what the streams received

    def arrived(self, marker, now):
        seen = self.arrivals.setdefault(marker, [])
        seen.append(now)
        if len(seen) >= self.expected and marker in self.waiters:
            self.waiters[marker].set()

    async def _open_one(self, stream, gate):
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), self.timeout)
                stream.writer = writer
                writer.write((f"GET /api/v1/me/stream HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                              f"Authorization: Bearer {stream.token}\r\nAccept: text/event-stream\r\n\r\n").encode())
                await writer.drain()
                stream.status, headers = await _read_head(reader, self.timeout)
                if stream.status != 200:
                    stream.refusal = await asyncio.wait_for(reader.read(2000), self.timeout)
                    writer.close()
                    return None
                chunked = "chunked" in headers.get("transfer-encoding", "")
                return reader, chunked
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                stream.error = repr(error)
                return None

    async def _pump(self, stream, reader, chunked):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    stream.ended = True
                    return
                began = time.perf_counter()
                stream.feed(data, chunked, self)
                self.busy += time.perf_counter() - began
                if stream.ended:
                    return
        except (OSError, asyncio.CancelledError) as error:
            if not isinstance(error, asyncio.CancelledError):
                stream.error = repr(error)
                stream.ended = True

    async def open(self):
        """Opens every stream; returns once each answered (200 or not) and the 200s sent `retry:`."""
        gate = asyncio.Semaphore(self.connect_concurrency)
        per_token = -(-self.count // len(self.tokens))
        self.streams = [Stream(self.tokens[i // per_token]) for i in range(self.count)]
        started = time.monotonic()
        opened = await asyncio.gather(*(self._open_one(s, gate) for s in self.streams))
        for stream, result in zip(self.streams, opened):
            if result is not None:
                stream.task = asyncio.create_task(self._pump(stream, *result))
        self.expected = len(self.open_streams())
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and not all(s.retry_seen or s.ended for s in self.open_streams()):
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    def open_streams(self):
        return [s for s in self.streams if s.status == 200]

    def live(self):
        return [s for s in self.open_streams() if not s.ended]

    def expect(self, marker):
        """An event set once every open stream received the change marked `marker`."""
        self.waiters[marker] = asyncio.Event()
        if len(self.arrivals.get(marker, [])) >= self.expected:
            self.waiters[marker].set()
        return self.waiters[marker]

    async def close(self):
        for stream in self.streams:
            if stream.task is not None:
                stream.task.cancel()
            if stream.writer is not None:
                stream.writer.close()
        await asyncio.gather(*(s.task for s in self.streams if s.task is not None), return_exceptions=True)
        for stream in self.streams:
            if stream.writer is not None:
                try:
                    await asyncio.wait_for(stream.writer.wait_closed(), 2)
                except (OSError, asyncio.TimeoutError):
                    pass


class Client:
    """One keep-alive HTTP/1.1 connection for the changing requests, on the same event loop."""

    def __init__(self, port, token, timeout=20.0):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.reader = self.writer = None

    async def request(self, method, path, body=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), self.timeout)
        payload = json.dumps(body).encode() if body is not None else b""
        self.writer.write((f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                           f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload)
        await self.writer.drain()
        status, headers = await _read_head(self.reader, self.timeout)
        length = int(headers.get("content-length", "0"))
        data = await asyncio.wait_for(self.reader.readexactly(length), self.timeout) if length else b""
        return status, data

    async def close(self):
        if self.writer is not None:
            self.writer.close()
