#!/usr/bin/env python3
"""Answer an invitation from its email's one-click link in headless Chromium at phone width.

Standard library only: cdp.py (next to this file) drives Chromium over the DevTools protocol,
urllib plays the host, and the email is read from the service's outbox (no SMTP_URL: files).
Called by scripts/browser-rsvp-test.sh with the running service's base URL and outbox folder;
prints one result line and exits 0, or prints what failed and exits 1.

The test:
  * Olivia registers and creates an event (place, time in Asia/Tehran, up to 2 guests); Sara
    registers; Olivia
    invites Sara's email with a note; the invitation email in the outbox carries a link
    `{PUBLIC_URL}/i/{token}` (and no token appears anywhere but in that link);
  * a scanner's GETs of the link (three, without cookies) change nothing: still pending;
  * a POST of the answer without the page's CSRF cookie answers 403 and changes nothing;
  * Chromium opens the link at 360x800 (a phone): the page shows the title, the place, the sender,
    the note, the time as read in Tehran, and three buttons, loads nothing from another origin, runs no script, and a
    screenshot is kept ($SCREENSHOT_DIR/rsvp-phone.png);
  * it types 1 guest and a comment and presses Accept: the result page says "You're going", a
    second screenshot is kept (rsvp-phone-answered.png), and Sara's own API view of the invitation
    says accepted with 1 guest and the comment;
  * the link is dead now: a GET answers 404;
  * in Persian (docs/api.md, "Languages"): Reza registers with `"locale": "fa"` and is invited to
    the same event; his email is in Persian, and his page is right to left (`lang="fa"
    dir="rtl"`), in Persian, with the Solar Hijri date beside the Gregorian one in Persian digits,
    and fits the phone; a screenshot is kept (rsvp-phone-fa.png); he presses "maybe" and the page
    says so in Persian (rsvp-phone-fa-answered.png);
  * Sara's email names its unsubscribe link in `List-Unsubscribe` (with `List-Unsubscribe-Post`);
    its page (docs/api.md, "Stopping invitation messages") shows her address and two stacked
    buttons, no script, within the phone's width (unsubscribe-phone.png); "Stop invitations from
    everyone" says it is done and leaves no button (unsubscribe-phone-done.png).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email
import email.policy
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from cdp import BASE_FLAGS, Cdp, Failure, chromium_log, start_chromium, stop_chromium

WIDTH, HEIGHT = 360, 800
CHROMIUM_FLAGS = [
    *BASE_FLAGS,
    f"--window-size={WIDTH},{HEIGHT}",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def api(base_url: str, method: str, path: str, body=None, token: str | None = None,
        headers: dict | None = None, raw: bytes | None = None):
    """One request; returns (status, parsed JSON or text). Never raises on an HTTP status."""
    sent = {"Accept": "application/json", **(headers or {})}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    except OSError as error:
        raise Failure(f"{method} {path}: {error}") from error
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode(errors="replace")


def expect(base_url, status, method, path, body=None, token=None, **kwargs):
    got, answer = api(base_url, method, path, body, token, **kwargs)
    if got != status:
        raise Failure(f"{method} {path} answered {got}, expected {status}: {str(answer)[:500]}")
    return answer


def register(base_url: str, name: str, locale: str = "en") -> dict:
    address = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    data = expect(
        base_url, 201, "POST", "/api/v1/register",
        {"name": name, "email": address, "password": "correct horse battery", "locale": locale},
    )["data"]
    return {"id": data["user"]["id"], "token": data["token"], "email": address}


def link_in_outbox(outbox: str, to: str, timeout: float = 20.0) -> tuple[str, str]:
    """The one-click link of the invitation email to `to`, and the whole message's text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in glob.glob(os.path.join(outbox, "**", "*.eml"), recursive=True):
            with open(path, "rb") as f:
                message = email.message_from_binary_file(f, policy=email.policy.default)
            if to not in str(message["To"]):
                continue
            text = message.get_body(preferencelist=("plain",)).get_content()
            html = message.get_body(preferencelist=("html",)).get_content()
            links = re.findall(r"https?://\S+/i/[A-Za-z0-9_-]+", text)
            if len(links) != 1 or links[0] not in html:
                raise Failure(f"expected one link in both parts of the email:\n{text}")
            return links[0], text
        time.sleep(0.2)
    raise Failure(f"no invitation email to {to} in {outbox} within {timeout:.0f} s")


def screenshot(cdp: Cdp, path: str) -> int:
    shot = base64.b64decode(
        cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    )
    with open(path, "wb") as f:
        f.write(shot)
    return len(shot)


def wait_loaded(cdp: Cdp, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cdp.evaluate("document.readyState") == "complete" and cdp.evaluate(
            "!!document.querySelector('h1')"
        ):
            return
        time.sleep(0.1)
    raise Failure("the page did not load")


@contextlib.contextmanager
def phone_page(chromium: str, url: str, what: str):
    """Chromium at phone size on `url`, loaded; yields its DevTools connection. On a failure the
    Chromium log is printed; Chromium and its profile are gone afterwards."""
    profile = tempfile.mkdtemp(prefix="event-manager-chromium.")
    process = None
    try:
        process, ws_url = start_chromium(chromium, profile, CHROMIUM_FLAGS)
        cdp = Cdp(ws_url)
        for domain in ("Network", "Page", "Runtime", "Log"):
            cdp.call(f"{domain}.enable")
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH, height=HEIGHT, deviceScaleFactor=2, mobile=True,
        )
        navigation = cdp.call("Page.navigate", url=url)
        if navigation.get("errorText"):
            raise Failure(f"opening {what} failed: {navigation['errorText']}")
        wait_loaded(cdp)
        yield cdp
        cdp.call("Browser.close")
    except Failure:
        log = chromium_log(profile)
        if log:
            print(f"--- chromium log ---\n{log}", file=sys.stderr)
        raise
    finally:
        if process is not None:
            stop_chromium(process)
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_text(cdp: Cdp, needle: str, timeout: float = 15.0) -> str:
    """The page's text once it shows `needle` (or when `timeout` runs out), across a navigation."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            if needle in (cdp.evaluate("document.body && document.body.innerText") or ""):
                break
        except Failure:
            pass
    return cdp.evaluate("document.body.innerText")


def run(chromium: str, base_url: str, outbox: str, shots: str) -> str:
    olivia, sara = register(base_url, "Olivia"), register(base_url, "Sara")
    event = expect(
        base_url, 201, "POST", "/api/v1/events",
        {
            "title": "Rooftop launch party",
            "location": "Azadi Tower, 5th floor",
            "starts_at": "2027-01-15T14:30:00Z",
            "ends_at": "2027-01-15T18:30:00Z",
            "time_zone": "Asia/Tehran",
            "description": "Music, food and the first look at the new app.",
            "max_guests": 2,
        },
        olivia["token"],
    )["data"]
    sent = expect(
        base_url, 200, "POST", f"/api/v1/events/{event['id']}/invitations",
        {"invitations": [sara["email"]], "message": "Bring a friend if you like!"},
        olivia["token"],
    )["data"]
    invitation_id = sent["sent"][0]["id"]
    link, text = link_in_outbox(outbox, sara["email"])
    token = link.rsplit("/", 1)[1]
    if len(token) < 22:
        raise Failure(f"the link's token is short: {link}")
    if text.count(token) != 1:
        raise Failure("the token appears in the email outside its link")
    path = f"/i/{token}"

    def status_of() -> str:
        return expect(
            base_url, 200, "GET", f"/api/v1/invitations/{invitation_id}", token=sara["token"]
        )["data"]["status"]

    # A mail scanner follows the link: nothing changes.
    for _ in range(3):
        expect(base_url, 200, "GET", path, headers={"Accept": "text/html"})
    if status_of() != "pending":
        raise Failure("looking at the link changed the invitation")
    # A POST without the page's cookie (another site's form, a scanner) answers nothing.
    got, page = api(
        base_url, "POST", path,
        raw=b"csrf=guess&status=accepted",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    if got != 403 or status_of() != "pending":
        raise Failure(f"a POST without the page's cookie answered {got} and left {status_of()}")

    with phone_page(chromium, f"{base_url}{path}", "the link") as cdp:
        shown = cdp.evaluate("document.body.innerText")
        for needle in ("Olivia invited you", "Rooftop launch party", "Azadi Tower, 5th floor",
                       "Bring a friend if you like!", "Not answered yet",
                       "Friday 15 January 2027, 18:00 – 22:00 (Asia/Tehran)"):
            if needle not in shown:
                raise Failure(f"the page does not show {needle!r}:\n{shown}")
        buttons = cdp.evaluate("[...document.querySelectorAll('button')].map(b => b.innerText)")
        if buttons != ["Accept", "Maybe", "Decline"]:
            raise Failure(f"the page's buttons are {buttons}")
        if cdp.evaluate("document.scripts.length") != 0:
            raise Failure("the page has scripts")
        overflow = cdp.evaluate("document.documentElement.scrollWidth")
        if overflow > WIDTH:
            raise Failure(f"the page is {overflow} px wide on a {WIDTH} px screen")
        before = os.path.join(shots, "rsvp-phone.png")
        size = screenshot(cdp, before)

        cdp.evaluate("document.querySelector('#guests').value = '1'")
        cdp.evaluate("document.querySelector('#comment').value = 'Coming with my brother.'")
        cdp.call("Page.setLifecycleEventsEnabled", enabled=True)
        cdp.evaluate("document.querySelector('button.yes').click()")
        result = wait_for_text(cdp, "You're going")
        if "You're going" not in result or "Accepted" not in result:
            raise Failure(f"after Accept the page says:\n{result}")
        after = os.path.join(shots, "rsvp-phone-answered.png")
        screenshot(cdp, after)

        origins = {
            e["params"]["request"]["url"].split("/")[2]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        }
        if origins - {base_url.split("/")[2]}:
            raise Failure(f"the page reached other origins: {origins}")

    mine = expect(
        base_url, 200, "GET", f"/api/v1/invitations/{invitation_id}", token=sara["token"]
    )["data"]
    if (mine["status"], mine["guests"], mine["comment"]) != (
        "accepted", 1, "Coming with my brother."
    ):
        raise Failure(f"the invitation after the page's Accept: {mine}")
    got, _ = api(base_url, "GET", path, headers={"Accept": "text/html"})
    if got != 404:
        raise Failure(f"the used link answered {got}, expected 404")
    persian = run_persian(chromium, base_url, outbox, shots, olivia, event)
    unsubscribe = run_unsubscribe(chromium, outbox, shots, sara["email"])
    return (
        f"browser: the RSVP page at {WIDTH} px answered the invitation (accepted, 1 guest); "
        f"scanner GETs and a cookieless POST changed nothing; screenshots {before} "
        f"({size // 1024} KiB) and {after}; {persian}; {unsubscribe}"
    )


def run_unsubscribe(chromium: str, outbox: str, shots: str, to: str) -> str:
    """The page of the invitation email's List-Unsubscribe link: two buttons, no script, the
    phone's width; "everyone" stops everyone's invitation messages to the address."""
    link = None
    for path in glob.glob(os.path.join(outbox, "**", "*.eml"), recursive=True):
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.default)
        if to in str(message["To"]) and message["List-Unsubscribe"]:
            if str(message["List-Unsubscribe-Post"]) != "List-Unsubscribe=One-Click":
                raise Failure(f"List-Unsubscribe-Post is {message['List-Unsubscribe-Post']!r}")
            link = str(message["List-Unsubscribe"]).strip("<> ")
            break
    if not link:
        raise Failure(f"no email to {to} with a List-Unsubscribe header")
    with phone_page(chromium, link, "the unsubscribe link") as cdp:
        shown = cdp.evaluate("document.body.innerText")
        for needle in ("Stop invitation messages", to):
            if needle not in shown:
                raise Failure(f"the unsubscribe page does not show {needle!r}:\n{shown}")
        buttons = cdp.evaluate("[...document.querySelectorAll('button')].map(b => b.innerText)")
        if buttons != ["Stop invitations from Olivia", "Stop invitations from everyone"]:
            raise Failure(f"the unsubscribe page's buttons are {buttons}")
        if cdp.evaluate("document.scripts.length") != 0:
            raise Failure("the unsubscribe page has scripts")
        overflow = cdp.evaluate("document.documentElement.scrollWidth")
        if overflow > WIDTH:
            raise Failure(f"the unsubscribe page is {overflow} px wide on a {WIDTH} px screen")
        before = os.path.join(shots, "unsubscribe-phone.png")
        screenshot(cdp, before)
        cdp.evaluate("document.querySelector('button.no').click()")
        result = wait_for_text(cdp, "no more invitation messages from anyone")
        if "no more invitation messages from anyone" not in result:
            raise Failure(f"after 'everyone' the unsubscribe page says:\n{result}")
        if cdp.evaluate("document.querySelectorAll('button').length") != 0:
            raise Failure("buttons are left after stopping everyone's messages")
        after = os.path.join(shots, "unsubscribe-phone-done.png")
        screenshot(cdp, after)
    return f"the unsubscribe page stopped everyone's messages: {before} and {after}"


# 15 January 2027 14:30 UTC is 18:00 in Tehran, Friday 25 Dey 1405.
PERSIAN_WHEN = "جمعه ۲۵ دی ۱۴۰۵ (۱۵ ژانویه ۲۰۲۷)، ساعت ۱۸:۰۰ تا ۲۲:۰۰ (Asia/Tehran)"


def run_persian(chromium: str, base_url: str, outbox: str, shots: str, olivia: dict,
                event: dict) -> str:
    reza = register(base_url, "Reza", "fa")
    expect(
        base_url, 200, "POST", f"/api/v1/events/{event['id']}/invitations",
        {"invitations": [reza["email"]]}, olivia["token"],
    )
    link, text = link_in_outbox(outbox, reza["email"])
    for needle in ("سلام Reza،", "Olivia شما را به «Rooftop launch party» دعوت کرده است.",
                   "برای پاسخ (بله، شاید یا نه) این پیوند را باز کنید:"):
        if needle not in text:
            raise Failure(f"Reza's email does not say {needle!r}:\n{text}")
    with phone_page(chromium, link, "the Persian link") as cdp:
        root = cdp.evaluate("[document.documentElement.lang, document.documentElement.dir]")
        if root != ["fa", "rtl"]:
            raise Failure(f"the Persian page's html has lang and dir {root}")
        shown = cdp.evaluate("document.body.innerText")
        for needle in ("Olivia شما را دعوت کرده است", "Rooftop launch party", PERSIAN_WHEN,
                       "هنوز پاسخ نداده‌اید", "مهمانان همراه شما (تا ۲ نفر)"):
            if needle not in shown:
                raise Failure(f"the Persian page does not show {needle!r}:\n{shown}")
        buttons = cdp.evaluate("[...document.querySelectorAll('button')].map(b => b.innerText)")
        if buttons != ["می‌آیم", "شاید", "نمی‌آیم"]:
            raise Failure(f"the Persian page's buttons are {buttons}")
        direction = cdp.evaluate("getComputedStyle(document.querySelector('h1')).direction")
        if direction != "rtl":
            raise Failure(f"the Persian heading reads {direction}")
        overflow = cdp.evaluate("document.documentElement.scrollWidth")
        if overflow > WIDTH:
            raise Failure(f"the Persian page is {overflow} px wide on a {WIDTH} px screen")
        before = os.path.join(shots, "rsvp-phone-fa.png")
        screenshot(cdp, before)
        cdp.evaluate("document.querySelector('button.maybe').click()")
        result = wait_for_text(cdp, "پاسخ شما «شاید» است")
        if "پاسخ شما «شاید» است" not in result:
            raise Failure(f"after maybe the Persian page says:\n{result}")
        after = os.path.join(shots, "rsvp-phone-fa-answered.png")
        screenshot(cdp, after)
    return f"in Persian, right to left, with the Solar Hijri date: {before} and {after}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    try:
        print(run(args.chromium, args.base_url, args.outbox, args.screenshots))
        return 0
    except Failure as failure:
        print(f"browser: FAILED: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
