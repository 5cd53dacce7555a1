"""``x-request-id`` on every reply: the client's own when it sent a sane one, else a new one.

OpenAI, OpenRouter and LiteLLM's proxy all answer with a request id a user can quote; a client
that already tags its requests (a tracing id) gets the same id back, so both sides' logs meet.
A sent id is kept only if it is 1-128 characters of ``[A-Za-z0-9._:-]`` (a header value is
echoed, so nothing else may pass); otherwise a fresh ``req_<32 hex>`` replaces it. A plain ASGI
middleware: one header read and one header added per request, no framework on the hot path.
The id is in ``scope["state"]["request_id"]`` for the handlers.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llmswitch._types import new_request_id
from llmswitch.server.raw_asgi import header

_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
HEADER = b"x-request-id"


def request_id(sent: bytes | None) -> str:
    """The id to use for a request that sent ``sent`` (None: no header)."""
    if sent is not None and _SANE.fullmatch(sent):
        return sent.decode("ascii")
    return new_request_id()


class RequestId:
    """ASGI middleware adding ``x-request-id`` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = header(scope, HEADER)
        rid = request_id(sent)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != HEADER]
                message["headers"] = [*headers, (HEADER, rid.encode("ascii"))]
            await send(message)

        await self.app(scope, receive, send_with_id)
