"""The alerts webhook: POST each ``Alert`` as JSON, in the background, never delaying a call.

Why a thread and a bounded queue: an alert is raised inside the call path (an event sink), and a
webhook receiver can be down or slow. ``WebhookSender.__call__`` only puts the alert on a queue
(a full queue drops it with a log line); one daemon thread posts it with a timeout, retries with
exponential backoff through the injected ``sleep``, and after the last retry drops it with a
WARNING. The body is ``Alert.as_dict()``: kind, provider, key_alias, window, used, limit,
resets_at, threshold, message, ts, request_id (the call that raised it, when one did); names
and numbers, never a key.

The URL itself may be a credential (Slack's path is its token, some carry ``?token=`` or
``user:password@``), so logs name only its scheme and host.

Example:
    >>> sender = WebhookSender("https://hooks.example.com/llmswitch")   # doctest: +SKIP
    >>> manager.add_alert_handler(sender)                                # doctest: +SKIP
    >>> sender.close()                                                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from llmswitch._clock import Sleep

if TYPE_CHECKING:
    from llmswitch._alerts import Alert

log = logging.getLogger("llmswitch.alerts")

_STOP = object()
MAX_BACKOFF = 30.0


def safe_url(url: str) -> str:
    """``scheme://host[:port]/…``: what a log may show of a webhook URL."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{rest}"


def backoff_delays(retries: int, base: float) -> list[float]:
    """Seconds to wait before each retry: ``base``, ``2*base``, ``4*base``... capped at 30."""
    return [min(MAX_BACKOFF, base * 2**i) for i in range(retries)]


class WebhookSender:
    """An alert handler that POSTs alerts to ``url`` from a background thread.

    Args:
        url: the receiver (http or https).
        timeout: seconds for each POST (connect, read, write).
        retries: further tries after a failed POST (network error, timeout, 429 or 5xx).
        backoff: the first retry's delay in seconds; it doubles per retry.
        sleep: how to wait between retries (tests pass a recorder; never the call path's).
        queue_size: alerts waiting at most; past it new alerts are dropped with a log line.
        client: an ``httpx.Client`` to post with; one is built (and closed) when None.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Sleep = time.sleep,
        queue_size: int = 100,
        client: httpx.Client | None = None,
    ) -> None:
        self._url = url
        self.shown_url = safe_url(url)
        self._delays = backoff_delays(retries, backoff)
        self._sleep = sleep
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._owns_client = client is None
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self.sent = 0
        self.dropped = 0

    def __repr__(self) -> str:
        return f"<WebhookSender {self.shown_url}>"

    def __call__(self, alert: Alert) -> None:
        """Queue ``alert`` for sending; never blocks, never raises."""
        if self._closed:
            return
        self._ensure_thread()
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self._done(dropped=True)
            log.warning(
                "llmswitch: alert webhook %s is behind; dropped alert %s",
                self.shown_url,
                alert.kind,
            )

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until every queued alert is sent or dropped."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread after what is queued (at most ``timeout`` seconds), free the client."""
        if self._closed:
            return
        self._closed = True
        thread = self._thread
        if thread is not None:
            with contextlib.suppress(queue.Full):  # stuck behind a slow receiver: let it be
                self._queue.put(_STOP, timeout=timeout)
            thread.join(timeout)
        if self._owns_client and (thread is None or not thread.is_alive()):
            self._client.close()

    # -- the background thread -----------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="llmswitch-alert-webhook", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                delivered = self._deliver(item)  # type: ignore[arg-type]
            except Exception:  # the thread must outlive any surprise
                log.exception("llmswitch: alert webhook %s failed unexpectedly", self.shown_url)
                delivered = False
            self._done(dropped=not delivered)

    def _deliver(self, alert: Alert) -> bool:
        problem = ""
        for attempt, delay in enumerate([0.0, *self._delays]):
            if delay:
                self._sleep(delay)
            problem = self._post(alert)
            if not problem:
                return True
            if problem.startswith("refused"):
                break  # a 4xx other than 429: retrying would get the same answer
            log.info(
                "llmswitch: alert webhook %s: %s (try %d of %d)",
                self.shown_url,
                problem,
                attempt + 1,
                len(self._delays) + 1,
            )
        log.warning(
            "llmswitch: alert webhook %s failed (%s); dropped alert %s: %s",
            self.shown_url,
            problem,
            alert.kind,
            alert.message,
        )
        return False

    def _post(self, alert: Alert) -> str:
        """POST once; "" on success, else what went wrong (never the URL)."""
        try:
            response = self._client.post(self._url, json=alert.as_dict())
        except httpx.TimeoutException:
            return "timed out"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}"
        status = response.status_code
        if 200 <= status < 300:
            return ""
        if 400 <= status < 500 and status not in (408, 429):
            return f"refused with HTTP {status}"
        return f"HTTP {status}"

    def _done(self, *, dropped: bool) -> None:
        with self._idle:
            self._pending -= 1
            if dropped:
                self.dropped += 1
            else:
                self.sent += 1
            self._idle.notify_all()
