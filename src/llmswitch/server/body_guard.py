"""ASGI middleware bounding a request body: its size (413) and the time it takes to arrive (408).

Why read the body here, before the app: a body shorter than its ``Content-Length`` would
otherwise hold a connection for as long as the client likes, and an unbounded body is held in
memory whole (one 50 MB body peaked at 269 MB, four at once at 784 MB). Every gateway endpoint
reads its whole body anyway (JSON), so reading it up front costs nothing: the app then gets the
same bytes in one ``http.request`` message. A declared ``Content-Length`` over the limit is
refused before a byte of the body is read.

The limits are ``ServerLimits.max_body_bytes`` and ``body_timeout``; refusals carry
``connection: close`` (the rest of the body is never read) and an OpenAI-shaped error body.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llmswitch.server.limits import MiB, ServerLimits


class BodyTooLarge(Exception):
    """The body passed ``max_body_bytes`` while it was being read."""


class BodyGuard:
    """Reads each HTTP request's body within ``limits`` before handing the request on.

    Args:
        app: the wrapped ASGI app.
        limits: ``max_body_bytes`` and ``body_timeout`` are read.
    """

    def __init__(self, app: ASGIApp, limits: ServerLimits) -> None:
        self.app = app
        self._max = limits.max_body_bytes
        self._timeout = limits.body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self._max:
            await _refuse(send, 413, self._too_large(declared), "request_too_large")
            return
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._read(receive)
        except BodyTooLarge:
            await _refuse(send, 413, self._too_large(None), "request_too_large")
            return
        except TimeoutError:
            await _refuse(
                send,
                408,
                f"the request body did not arrive within {self._timeout:g} s; send it whole, "
                "with a Content-Length that matches it",
                "request_timeout",
            )
            return
        if body is None:  # the client went away mid-body: nobody to answer
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, declared: int | None) -> str:
        what = f"{declared} bytes" if declared is not None else "larger"
        return (
            f"the request body is {what}, over the gateway's limit of {self._max} bytes "
            f"({self._max / MiB:g} MiB); send a smaller request (llmswitch serve --max-body-mb "
            "raises the limit)"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then the real channel (for ``http.disconnect`` while streaming)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _refuse(send: Send, status: int, message: str, code: str) -> None:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
