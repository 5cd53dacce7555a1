"""``POST /v1/responses``: the Responses API over the same call machine as chat completions.

The request is translated to chat (``responses_shapes.to_chat``), checked by the chat schema
(so a bad field is the same 400 as on chat), served by ``achat`` / ``astream`` with failover,
limits and accounting, and the reply translated back (``from_chat`` / ``ResponsesEvents``).
So ``responses.create`` and ``responses.stream`` work through every provider, including the
ones with no Responses API of their own (Gemini, Together). Replies carry the same
``x-llmswitch-*`` headers as chat.

Providers that serve the Responses API themselves (OpenAI, Groq, OpenRouter:
``catalog.ProviderSpec.responses_api``) get the request natively, as the client sent it
(``_wire.responses``), and their reply or events go back as they came (``responses_native``);
the others get the chat translation. One call may fail over from one kind to the other before
its first output. The request must still be one chat can carry, since any candidate may be a
translated one: what chat cannot carry (``store: true``, ``previous_response_id``, built-in
tools) stays a 400 naming the field.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pydantic_core
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from llmswitch._errors import LLMSwitchError, MalformedReply
from llmswitch._types import Attempt, Outcome
from llmswitch.server import responses_shapes as rs
from llmswitch.server import shapes
from llmswitch.server.openai_api import gateway_request_id, json_response, max_output
from llmswitch.server.ratelimit_headers import (
    rate_limit_headers,
    served_windows,
    serving_key,
    stream_windows,
)
from llmswitch.server.request_schema import validate_chat_body
from llmswitch.server.responses_native import NativeEvents, is_native, native_body
from llmswitch.server.responses_stream import ResponsesEvents

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager
    from llmswitch._router import AsyncChatStream

log = logging.getLogger("llmswitch.server")


class ResponsesRoutes:
    """``POST /v1/responses`` over one manager."""

    def __init__(self, manager: LLMProviderManager, redact: shapes.Redact) -> None:
        self._manager = manager
        self._redact = redact
        self._max_output = functools.lru_cache(maxsize=256)(functools.partial(max_output, manager))

    def routes(self) -> list[BaseRoute]:
        return [Route("/v1/responses", self.create, methods=["POST"])]

    async def create(self, request: Request) -> Response:
        try:
            try:
                original = pydantic_core.from_json(await request.body(), allow_inf_nan=False)
            except ValueError as exc:
                raise shapes.BadInput(
                    f"the body is not valid JSON: {exc}", code="invalid_json"
                ) from None
            chat = rs.to_chat(original)
            payload = validate_chat_body(shapes.dumps(chat), max_output=self._max_output)
            messages, model, stream, _, params = shapes.parse_chat(payload)
        except shapes.BadInput as exc:
            return json_response(*shapes.bad_input_reply(exc))
        params["request_id"] = gateway_request_id(request.scope)
        params["responses_body"] = original  # sent as it is where a provider serves Responses
        try:
            if stream:
                return await self._stream(original, messages, model, params)
            result = await self._manager.achat(messages, model=model, **params)
        except LLMSwitchError as exc:
            status, body, headers = shapes.error_reply(exc, self._redact)
            return json_response(status, body, headers)
        created = int(time.time())
        native = native_body(result)
        if native is not None:
            body = native
        else:
            chat_body = shapes.completion_body(
                result, completion_id=rs.new_id("chatcmpl-"), created=created
            )
            body = rs.from_chat(original, chat_body, rid=rs.new_id(), created=created)
        headers = shapes.llmswitch_headers(
            result.provider, result.model, result.attempts, self._redact
        )
        headers["x-llmswitch-cost-usd"] = shapes.cost_header(result.cost_usd)
        key, windows = serving_key(result), served_windows(result)
        headers.update(await rate_limit_headers(self._manager, result.provider, key, windows))
        return json_response(200, body, headers)

    async def _stream(
        self,
        original: dict[str, Any],
        messages: list[dict[str, Any]],
        model: str | None,
        params: dict[str, Any],
    ) -> Response:
        chunks = self._manager.astream(messages, model=model, **params)
        first = await anext(chunks, None)
        if first is None:
            raise MalformedReply("the stream ended before its first chunk")
        if first.result is not None:
            attempts: list[Attempt] = list(first.result.attempts)
        else:
            attempts = [*chunks.attempts, Attempt(first.provider, first.model, "", Outcome.OK)]
        headers = shapes.llmswitch_headers(first.provider, first.model, attempts, self._redact)
        key = serving_key(first.result) if first.result is not None else first.key_alias
        windows = stream_windows(first, chunks)
        headers.update(await rate_limit_headers(self._manager, first.provider, key, windows))
        headers["cache-control"] = "no-cache"
        if is_native(first):
            frames = self._native(chunks, first, NativeEvents(first.target))
            return StreamingResponse(frames, media_type="text/event-stream", headers=headers)
        events = ResponsesEvents(
            original, rid=rs.new_id(), created=int(time.time()), model=first.target
        )
        return StreamingResponse(
            self._events(chunks, first, events), media_type="text/event-stream", headers=headers
        )

    async def _native(
        self, chunks: AsyncChatStream, first: Any, events: NativeEvents
    ) -> AsyncIterator[bytes]:
        """The provider's own events, as they came (see ``responses_native``)."""
        chunk, result = first, None
        try:
            while chunk is not None:
                if chunk.result is not None:
                    result = chunk.result
                else:
                    for frame in events.chunk(chunk):
                        yield frame
                chunk = await anext(chunks, None)
            for frame in events.end(result):
                yield frame
        except LLMSwitchError as exc:
            error = shapes.stream_error_event(exc, self._redact)["error"]
            for frame in events.failed(error):
                yield frame
        finally:
            await chunks.aclose()

    async def _events(
        self, chunks: AsyncChatStream, first: Any, events: ResponsesEvents
    ) -> AsyncIterator[bytes]:
        cid, created, opened = rs.new_id("chatcmpl-"), int(time.time()), False
        for frame in events.start():
            yield frame
        chunk, result = first, None
        try:
            while chunk is not None:
                if chunk.result is not None:
                    result = chunk.result
                elif chunk.text or chunk.raw:
                    body = shapes.chunk_body(
                        chunk, completion_id=cid, created=created, first=not opened
                    )
                    opened = True
                    for frame in events.chunk(body):
                        yield frame
                chunk = await anext(chunks, None)
            for body in shapes.closing_chunks(
                result, first.target, completion_id=cid, created=created, include_usage=True
            ):
                for frame in events.chunk(body):
                    yield frame
            for frame in events.end():
                yield frame
        except LLMSwitchError as exc:
            error = shapes.stream_error_event(exc, self._redact)["error"]
            for frame in events.failed(error):
                yield frame
        finally:
            await chunks.aclose()
