"""Plain ASGI pieces for the gateway's hot endpoint: a body read, a header read, a JSON reply.

Why not Starlette's ``Request`` and ``Response`` here: ``POST /v1/chat/completions`` is the one
request a gateway serves thousands of times a second, and the objects cost more than the few
lines they stand for (issue 17 measured the framework's layers at about a third of the app's own
time per request). Everything else keeps Starlette.

Example:
    >>> reply = JsonReply(200, b'{"ok":true}', {"x-llmswitch-provider": "groq"})
    >>> reply.raw_headers[:2]
    [(b'content-type', b'application/json'), (b'content-length', b'11')]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.types import Receive, Scope, Send

JSON = b"application/json"


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away before sending it.

    Under ``llmswitch serve`` the body guard has already read it into one message; an app run
    without the guard (tests, an embedding server) gets it in as many messages as it arrives.
    """
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of request header ``name`` (lower-case, as ASGI servers give names)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class JsonReply:
    """A complete JSON response as an ASGI app: status, body bytes and extra headers.

    Header names are lower-cased and every header is encoded as latin-1, as Starlette does, so
    the bytes on the wire are the same as before the hot endpoint left Starlette.
    """

    __slots__ = ("body", "raw_headers", "status")

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.raw_headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body))]
        if headers:
            self.raw_headers += [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body})


class Endpoint:
    """Wraps an ``(scope, receive, send)`` coroutine so Starlette's ``Route`` mounts it as is.

    ``Route`` turns a plain function or bound method into a request/response endpoint; an
    object is taken as an ASGI app, with the route's method check (405) still in front.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handle(scope, receive, send)
