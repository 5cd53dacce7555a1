"""uvicorn's HTTP protocol with the guards it lacks: a header timeout, a header size cap and a
connection cap.

Why a protocol subclass: uvicorn (like most asyncio servers) starts timing a connection only once
a request is complete; a client that connects and sends its headers one byte a second is never
timed out, and ``limit_concurrency`` is checked only after the headers, so such clients hold file
descriptors for as long as they like. Measured before this guard: 1,100 of them exhausted the
default limit of 1,024, the gateway's own connects to the providers then failed, and calls kept
failing after the attack ended. The guard works where the problem is, per connection, before
the app sees anything:

- **Connection cap** (``max_connections``), so the file descriptors the gateway needs for its
  providers stay free. At the cap, a new connection takes the place of the one that has waited
  longest without sending a request (a slow client, or an idle keep-alive one), which is told
  408 and closed: a flood of slow clients thus evicts itself, and a real client, whose request
  arrives at once, is served. Only when every connection has a request in progress is the new
  one answered 503 and closed (a client that already sent its request may see a reset instead;
  either way it is told to retry).
- **Header timeout** (``header_timeout``): from a connection's open, or from the first byte of a
  later request on a keep-alive connection, to the end of the headers. Then 408 and close.
- **Header size** (``max_header_bytes``): larger request headers are answered 431 and closed;
  httptools itself puts no bound on them.

The body's limits (size, time) are the app's side of the same contract: see ``body_guard``.
Refusals are OpenAI-shaped JSON like every other error of the gateway.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from llmswitch.server.limits import ServerLimits

_REASONS = {
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def refusal_bytes(status: int, message: str, *, code: str, retry_after: int | None = None) -> bytes:
    """A complete HTTP/1.1 response with an OpenAI error body, closing the connection."""
    kind = "api_error" if status >= 500 else "invalid_request_error"
    error = {"message": message, "type": kind, "param": None, "code": code}
    body = json.dumps({"error": error}).encode()
    head = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus the connection cap, header timeout and header size cap.

    The limits come from ``config.limits`` (a ``ServerLimits``; see ``run.GatewayConfig``), the
    one object uvicorn hands every connection and pickles into its worker processes.
    """

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits: ServerLimits = getattr(config, "limits", None) or ServerLimits()
        self._header_clock: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._reading_headers = False
        self._refused = False
        #: When this connection began waiting for a request's headers; None while one is in
        #: progress (the cap evicts the longest waiting first).
        self.waiting_since: float | None = None

    # -- the connection cap -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self._limits.max_connections and not self._make_room():
            self._refused = True
            transport.write(
                refusal_bytes(
                    503,
                    f"the gateway is at its cap of {self._limits.max_connections} open "
                    "connections; retry shortly (llmswitch serve --max-connections raises it)",
                    code="too_many_connections",
                    retry_after=1,
                )
            )
            transport.close()
            return
        super().connection_made(transport)
        self._start_header_clock()

    def _make_room(self) -> bool:
        """Evict the connection that has waited longest for its request; False if none waits."""
        waiting = [
            p
            for p in self.connections
            if isinstance(p, GuardedHttpProtocol)
            and p.waiting_since is not None
            and not p.transport.is_closing()
        ]
        if not waiting:
            return False
        victim = min(waiting, key=lambda p: p.waiting_since or 0.0)
        victim._refuse(
            408,
            f"closed to make room: the gateway is at its cap of {self._limits.max_connections} "
            "connections and this one had sent no complete request; send the request at once",
            code="request_timeout",
        )
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        if not self._refused:  # a refused connection was never registered
            super().connection_lost(exc)

    # -- headers: time and size -------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._reading_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self._limits.max_header_bytes:
                self._refuse(
                    431,
                    f"request headers over {self._limits.max_header_bytes} bytes; send fewer "
                    "or shorter headers",
                    code="headers_too_large",
                )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_headers = True
        self._header_bytes = 0
        if self._header_clock is None:  # a keep-alive request: its clock starts at its first byte
            self._start_header_clock()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._stop_header_clock()
        self.waiting_since = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        idle = self.cycle is None or self.cycle.response_complete  # no pipelined request next
        if idle and not self.transport.is_closing():  # keep-alive: waiting for the next request
            self.waiting_since = self.loop.time()

    def _start_header_clock(self) -> None:
        if self.waiting_since is None:
            self.waiting_since = self.loop.time()
        self._header_clock = self.loop.call_later(
            self._limits.header_timeout, self._headers_timed_out
        )

    def _stop_header_clock(self) -> None:
        if self._header_clock is not None:
            self._header_clock.cancel()
            self._header_clock = None

    def _headers_timed_out(self) -> None:
        self._header_clock = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a pipelined request stalled mid-response: no status to add
            return
        self._refuse(
            408,
            f"the request's headers did not arrive within {self._limits.header_timeout:g} s; "
            "send the whole request line and headers at once",
            code="request_timeout",
        )

    def _refuse(self, status: int, message: str, *, code: str) -> None:
        self._reading_headers = False
        self.waiting_since = None
        self._stop_header_clock()
        self.transport.write(refusal_bytes(status, message, code=code))
        self.transport.close()
