"""A headless Chromium page driven over the DevTools protocol, for clicks the CLI cannot make.

Why this and not a driver package: the Chromium CLI (``--dump-dom``) shows a page but cannot
open a ``<details>`` or press a button; chromedriver or playwright would add a download. The
DevTools protocol is JSON over one websocket, and aiohttp (a dependency already) speaks
websockets. Waiting is done inside the page (a promise that resolves when a condition holds),
never by sleeping here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import aiohttp
import httpx

_LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)")
_WAIT = """new Promise((ok, fail) => {
  const deadline = Date.now() + %d;
  const check = () => {
    let v; try { v = (%s); } catch (e) { v = false; }
    if (v) ok(true); else if (Date.now() > deadline) fail(new Error("timed out: %s"));
    else setTimeout(check, 50);
  };
  check();
})"""


class Page:
    """One tab: ``goto``, ``eval`` (a JS expression, promises awaited), ``wait_for`` and
    ``screenshot``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ws: aiohttp.ClientWebSocketResponse):
        self._loop = loop
        self._ws = ws
        self._id = 0

    def _send(self, method: str, **params: Any) -> dict[str, Any]:
        return self._loop.run_until_complete(self._call(method, params))

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._id += 1
        mine = self._id
        await self._ws.send_str(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            msg = json.loads((await self._ws.receive(timeout=60)).data)
            if msg.get("id") == mine:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result

    def goto(self, url: str) -> None:
        self._send("Page.navigate", url=url)

    def eval(self, expression: str) -> Any:
        done = self._send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in done:
            raise AssertionError(f"{expression}: {done['exceptionDetails']}")
        return done["result"].get("value")

    def wait_for(self, condition: str, timeout_ms: int = 15_000) -> None:
        safe = condition.replace('"', "'")
        self.eval(_WAIT % (timeout_ms, condition, safe))

    def size(self, width: int, height: int) -> None:
        self._send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def screenshot(self, path: Path) -> None:
        shot = self._send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def _drain(stream: IO[str]) -> None:
    """Read chromium's log to its end, so a full pipe never blocks the browser."""
    with stream:
        for _ in stream:
            pass


@contextmanager
def open_page(chromium: str, profile: Path, timezone: str = "UTC") -> Iterator[Page]:
    """Start a headless Chromium, hand back its first tab (in ``timezone``), stop it after."""
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    loop = asyncio.new_event_loop()
    session: aiohttp.ClientSession | None = None
    drain: threading.Thread | None = None
    try:
        assert proc.stderr is not None
        found = None
        for line in proc.stderr:
            found = _LISTENING.search(line)
            if found:
                break
        assert found, "chromium printed no DevTools address"
        drain = threading.Thread(target=_drain, args=(proc.stderr,), daemon=True)
        drain.start()
        port = found.group(2)
        tabs = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        url = next(t["webSocketDebuggerUrl"] for t in tabs if t["type"] == "page")

        async def connect() -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
            s = aiohttp.ClientSession()
            return s, await s.ws_connect(url, max_msg_size=0)

        session, ws = loop.run_until_complete(connect())
        page = Page(loop, ws)
        page._send("Emulation.setTimezoneOverride", timezoneId=timezone)
        yield page
    finally:
        if session is not None:
            loop.run_until_complete(session.close())
        loop.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if drain is not None:
            drain.join(timeout=10)
        elif proc.stderr is not None:
            proc.stderr.close()
