"""The few ASGI primitives the simulator needs, written out instead of pulling in a framework.

Benchmarks use the simulator as a zero-latency upstream, so a request costs one dict lookup and
one ``json.dumps``. Two faults need more than ASGI offers: a connection reset before headers and
a stream cut mid-body. Both reach the asyncio transport through uvicorn's bound ``send`` method
(``send.__self__.transport``); where that is unavailable they degrade to raising, which uvicorn
turns into a dropped connection or a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

POLL = 0.02  # how often a hanging request checks for shutdown


class ConnectionDropped(Exception):
    """Raised to unwind a handler after its connection was aborted on purpose."""


@dataclass(slots=True)
class Reply:
    """A complete (non-streaming) answer: status, JSON body, headers, and the stats outcome."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"
    model: str = ""  # for the stats, when the refusal concerns a known model id


class Exchange:
    """One HTTP request/response over ASGI."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, closing: threading.Event):
        self.scope, self._receive, self._send = scope, receive, send
        self.closing = closing
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        raw_query = scope.get("query_string", b"").decode("latin-1")
        self.query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        self.headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
        }
        self.started = False

    async def body(self) -> bytes:
        chunks = []
        while True:
            message = await self._receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def json(self) -> Any:
        """The parsed body, or ``None`` when it is absent or not JSON."""
        raw = await self.body()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    async def respond(self, reply: Reply) -> None:
        data = json.dumps(reply.body, separators=(",", ":")).encode()
        await self.start(reply.status, reply.headers, "application/json")
        await self._send({"type": "http.response.body", "body": data})

    async def start(self, status: int, headers: dict[str, str], content_type: str) -> None:
        raw = [(b"content-type", content_type.encode())]
        raw += [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
        await self._send({"type": "http.response.start", "status": status, "headers": raw})
        self.started = True

    async def write(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self) -> None:
        await self._send({"type": "http.response.body", "body": b""})

    async def wait(self, seconds: float) -> bool:
        """Sleep real time, giving up early (False) when the server is shutting down."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.closing.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return True
            await asyncio.sleep(min(POLL, left))
        return False

    async def hang(self) -> None:
        """Never answer; on shutdown, drop the connection so uvicorn can exit at once."""
        await self.wait(float("inf"))
        self.abort(reset=False)

    def abort(self, *, reset: bool) -> None:
        """Drop the connection now; with ``reset`` the peer sees a TCP RST, not a FIN."""
        transport = getattr(getattr(self._send, "__self__", None), "transport", None)
        if transport is None:
            raise ConnectionDropped("no transport to abort; let the server drop the connection")
        sock = transport.get_extra_info("socket")
        if reset and sock is not None:
            with contextlib.suppress(OSError):  # already closed by the peer: nothing to reset
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        raise ConnectionDropped("connection aborted by a simulated fault")


def sse(data: Any) -> bytes:
    """One SSE event carrying ``data`` as compact JSON."""
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
