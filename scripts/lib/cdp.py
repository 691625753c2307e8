#!/usr/bin/env python3
"""Headless Chromium over the DevTools protocol, standard library only: shared by the browser tests.

`start_chromium` launches Chromium with a throwaway profile and returns the WebSocket URL of its
first page; `Cdp` sends commands to that page over a minimal WebSocket client (RFC 6455, enough for
CDP on 127.0.0.1) and keeps every event it receives; `stop_chromium` closes it (bounded waits);
`Failure` is what the tests raise and report. Used by browser_docs.py and browser_stream.py.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request

# Flags every test uses; each adds its own (window size, host resolver rules) to start_chromium.
BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
]
# The driver's own: DevTools on a loopback port of Chromium's choice (read from DevToolsActivePort).
DEVTOOLS_FLAGS = ["--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


class Failure(Exception):
    pass


# --- a minimal WebSocket client (RFC 6455), enough for CDP on 127.0.0.1 -------------------------


class WebSocket:
    def __init__(self, url: str, timeout: float = 30.0):
        parsed = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Failure("DevTools closed the WebSocket handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise Failure(f"DevTools refused the WebSocket: {head[:200]!r}")

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])  # FIN, text frame
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise Failure("DevTools closed the WebSocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise Failure("DevTools closed the WebSocket")
            if opcode == 0x9:  # ping: answer, keep reading
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Cdp:
    """Commands on one page target; every event received is kept in `events`."""

    def __init__(self, ws_url: str):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise Failure(f"CDP {method} failed: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise Failure(f"evaluating in the page failed: {result['exceptionDetails']}")
        return result["result"].get("value")


# --- Chromium's lifecycle ------------------------------------------------------------------------


def start_chromium(chromium: str, profile: str, flags: list[str]) -> tuple[subprocess.Popen, str]:
    """Starts Chromium with `flags` and the profile directory `profile` (its log goes to
    `profile`/chromium.log); returns the process and the DevTools WebSocket URL of its page."""
    log = open(os.path.join(profile, "chromium.log"), "wb")
    process = subprocess.Popen(
        [chromium, *flags, *DEVTOOLS_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failure(f"chromium exited with {process.returncode}; see its log below")
        try:
            with open(port_file) as f:
                port = int(f.readline().strip())
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                return process, pages[0]["webSocketDebuggerUrl"]
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise Failure("chromium did not open its DevTools port within 60 s")


def chromium_log(profile: str, limit: int = 3000) -> str:
    """The last `limit` characters of Chromium's log in `profile`, or "" when there is none."""
    try:
        with open(os.path.join(profile, "chromium.log"), "rb") as f:
            return f.read().decode(errors="replace")[-limit:]
    except OSError:
        return ""


def stop_chromium(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Waits up to `timeout` seconds for Chromium to exit (after Browser.close), else kills it;
    then kills what is left of its process group (it runs in a session of its own) so that no
    helper still writes to the profile when the caller removes it. The group is signalled while
    Chromium is an unreaped zombie, so its id cannot belong to anyone else yet."""
    deadline = time.monotonic() + timeout
    flags = os.WEXITED | os.WNOWAIT | os.WNOHANG
    try:
        while os.waitid(os.P_PID, process.pid, flags) is None:
            if time.monotonic() >= deadline:
                process.kill()
                os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
                break
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
    except (ChildProcessError, ProcessLookupError, PermissionError):
        pass  # already reaped, or nothing left in the group
    process.wait()
