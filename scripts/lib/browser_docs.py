#!/usr/bin/env python3
"""Load the docs page in headless Chromium over the DevTools protocol and check what it rendered.

Standard library only: cdp.py (next to this file) speaks CDP over a minimal WebSocket client, and
a minimal PNG decoder here checks the screenshot. Called by scripts/browser-docs-test.sh with the
running service's base URL; prints one result line and exits 0, or prints what failed and exits 1.

Checks:
  * every operation of /api/v1/openapi.json is rendered (one `.opblock` each), the invitation routes
    (`send-invitations`, `sended-invitations`) appear in the DOM, the Authorize button is there, and
    Swagger UI shows no load error;
  * the page made no request to anything but this server (no CDN, no validator badge, no fonts),
    every request it made succeeded, and it logged no JavaScript exception or console error;
  * the screenshot (1280x2000) is not blank: enough distinct colours and enough non-background pixels.

The page is loaded as http://docs.test:PORT/docs/ where Chromium alone resolves `docs.test` to
127.0.0.1 and every other host name to "not found": Swagger UI skips some external calls (the
validator badge) on `localhost`/`127.0.0.1` only, so a loopback URL would hide exactly the requests a
deployed page makes, while no packet can leave the machine either way.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import struct
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zlib

from cdp import BASE_FLAGS, Cdp, Failure, chromium_log, start_chromium, stop_chromium

DOCS_HOST = "docs.test"
CHROMIUM_FLAGS = [
    *BASE_FLAGS,
    "--window-size=1280,2000",
    # Nothing but the service is reachable by name; Chromium's own background calls fail too.
    f"--host-resolver-rules=MAP {DOCS_HOST} 127.0.0.1, MAP * ~NOTFOUND",
]


# --- a minimal PNG decoder: 8-bit greyscale/RGB/RGBA, non-interlaced (what Chromium writes) -----


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure("the screenshot is not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color not in (0, 2, 6) or interlace:
                raise Failure(f"unsupported PNG (depth {depth}, colour type {color})")
            channels = {0: 1, 2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if width is None:
        raise Failure("the screenshot PNG has no header")
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = previous[i], previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    pixels = [row[i : i + channels] for row in rows for i in range(0, stride, channels)]
    return width, height, pixels


# --- the test ---------------------------------------------------------------------------------


def documented_operations(base_url: str) -> list[str]:
    with urllib.request.urlopen(f"{base_url}/api/v1/openapi.json", timeout=10) as response:
        document = json.load(response)
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    # Swagger UI shows each webhook's operation (OpenAPI 3.1 `webhooks`) as one more block.
    return [
        f"{method.upper()} {path}"
        for section in ("paths", "webhooks")
        for path, item in document.get(section, {}).items()
        for method in item
        if method in methods
    ]


def wait_for_render(cdp: Cdp, expected: int, timeout: float = 45.0) -> int:
    """Waits until Swagger UI shows `expected` operations (or fails), then lets the page settle."""
    deadline, count = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        state = cdp.evaluate(
            "JSON.stringify({ready: document.readyState,"
            " ops: document.querySelectorAll('#swagger-ui .opblock').length,"
            " error: !!document.querySelector('#swagger-ui .errors-wrapper, #swagger-ui .loading-container .errors')})"
        )
        state = json.loads(state)
        count = state["ops"]
        if state["error"]:
            break
        if state["ready"] == "complete" and count >= expected:
            time.sleep(1.0)  # fonts, images, layout
            return cdp.evaluate("document.querySelectorAll('#swagger-ui .opblock').length")
        time.sleep(0.25)
    return count


def run(chromium: str, base_url: str, screenshot: str) -> str:
    port = urllib.parse.urlparse(base_url).port
    page_url = f"http://{DOCS_HOST}:{port}/docs/"
    local_origins = {f"http://{DOCS_HOST}:{port}", f"http://127.0.0.1:{port}"}
    operations = documented_operations(base_url)
    problems: list[str] = []

    profile = tempfile.mkdtemp(prefix="event-manager-chromium.")
    process = None
    try:
        process, ws_url = start_chromium(chromium, profile, CHROMIUM_FLAGS)
        cdp = Cdp(ws_url)
        for domain in ("Network", "Page", "Runtime", "Log"):
            cdp.call(f"{domain}.enable")
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280, height=2000, deviceScaleFactor=1, mobile=False,
        )
        navigation = cdp.call("Page.navigate", url=page_url)
        if navigation.get("errorText"):
            raise Failure(f"loading {page_url} failed: {navigation['errorText']}")
        rendered = wait_for_render(cdp, len(operations))

        # What the page shows.
        dom = cdp.evaluate("document.documentElement.outerHTML") or ""
        for needle in ("send-invitations", "sended-invitations"):
            if needle not in dom:
                problems.append(f"the rendered DOM does not contain {needle!r}")
        if rendered != len(operations):
            paths = cdp.evaluate(
                "[...document.querySelectorAll('#swagger-ui .opblock-summary-path')]"
                ".map(e => e.getAttribute('data-path') || e.innerText)"
            )
            problems.append(
                f"rendered {rendered} operations, the document has {len(operations)}; "
                f"rendered paths: {paths}"
            )
        if not cdp.evaluate("!!document.querySelector('#swagger-ui .btn.authorize')"):
            problems.append("no Authorize button (the bearer security scheme is not shown)")
        load_error = cdp.evaluate(
            "(document.querySelector('#swagger-ui .errors-wrapper') || {}).innerText || ''"
        )
        if load_error:
            problems.append(f"Swagger UI shows an error: {load_error.strip()[:300]}")

        # What it looks like.
        shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
        with open(screenshot, "wb") as f:
            f.write(shot)
        small = base64.b64decode(
            cdp.call(
                "Page.captureScreenshot",
                format="png",
                clip={"x": 0, "y": 0, "width": 1280, "height": 2000, "scale": 0.125},
            )["data"]
        )
        width, height, pixels = png_pixels(small)
        colours: dict[bytes, int] = {}
        for pixel in pixels:
            colours[pixel] = colours.get(pixel, 0) + 1
        background = max(colours.values())
        ink = 1 - background / len(pixels)
        if len(shot) < 20 * 1024 or len(colours) < 32 or ink < 0.05:
            problems.append(
                f"the screenshot looks blank: {len(shot)} bytes, {len(colours)} colours, "
                f"{ink:.1%} of pixels off the background ({screenshot})"
            )

        # What it talked to, and whether anything went wrong on the way.
        requests: dict[str, str] = {}
        for event in cdp.events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                requests[params["requestId"]] = url
                parsed = urllib.parse.urlparse(url)
                if parsed.scheme in ("data", "blob", "about"):
                    continue
                if f"{parsed.scheme}://{parsed.netloc}" not in local_origins:
                    problems.append(f"the page requested an external URL: {url}")
            elif method == "Network.responseReceived":
                status = params["response"]["status"]
                if status >= 400:
                    problems.append(f"HTTP {status} for {params['response']['url']}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                url = requests.get(params["requestId"], "?")
                problems.append(f"request failed ({params.get('errorText')}): {url}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                problems.append(f"JavaScript exception: {str(text)[:300]}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
                problems.append(f"console error: {args[:300]}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                problems.append(f"browser log error: {entry.get('text')} {entry.get('url', '')}")
        try:
            cdp.call("Browser.close")
        except Failure:
            pass
        cdp.ws.close()
    except Failure:
        if process is not None:
            sys.stderr.write(chromium_log(profile))
        raise
    finally:
        if process is not None:
            stop_chromium(process)
        shutil.rmtree(profile, ignore_errors=True)

    if problems:
        raise Failure("\n".join(dict.fromkeys(problems)))
    return (
        f"browser: /docs rendered {rendered} operations, screenshot {len(shot) // 1024} KiB "
        f"({len(colours)} colours at 1/8 scale), {len(requests)} requests, all to the service"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--base-url", required=True, help="the running service, http://127.0.0.1:PORT")
    parser.add_argument("--screenshot", required=True, help="where to write the PNG")
    args = parser.parse_args()
    try:
        print(run(args.chromium, args.base_url.rstrip("/"), args.screenshot), flush=True)
        return 0
    except Failure as failure:
        print(f"browser: FAILED\n{failure}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
