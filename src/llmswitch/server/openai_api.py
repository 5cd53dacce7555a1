"""``POST /v1/chat/completions`` and ``GET /v1/models``: OpenAI's API in front of the manager.

An existing OpenAI client changes only its ``base_url`` to get failover, limits and accounting.
``model`` may be ``auto``, an alias (retired ids included), a provider's own id, or
``provider/model`` to pin one provider. Every reply names who served it in ``x-llmswitch-*``
headers; failures come back as OpenAI error JSON with the status the SDKs expect (see
``shapes``).

Handlers are plain Starlette endpoints (no FastAPI dependency solving, no pydantic) because the
gateway's overhead per request is measured and should stay well under a millisecond.

Streaming: the first chunk is awaited before the response starts, so failover before the first
token is invisible to the client and the headers can name the provider that actually serves.
An error after the first token is sent as an SSE ``error`` event and the stream ends without
``[DONE]``: a cut answer is never presented as complete. With ``x-llmswitch-continuation: on``
(or ``stream_continuation = true``) a cut stream continues on another model instead.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from llmswitch._errors import LLMSwitchError, MalformedReply
from llmswitch._types import Attempt, Outcome, StreamChunk
from llmswitch.server import not_found, shapes
from llmswitch.server.ratelimit_headers import (
    rate_limit_headers,
    served_windows,
    serving_key,
    stream_windows,
)
from llmswitch.server.raw_asgi import Endpoint, JsonReply, header, read_body
from llmswitch.server.request_schema import validate_chat_body

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager
    from llmswitch._router import AsyncChatStream

log = logging.getLogger("llmswitch.server")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        shapes.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> JsonReply:
    """``json_response`` without Starlette's ``Response`` (the same bytes on the wire)."""
    return JsonReply(status, shapes.dumps(body), headers)


INTERNAL_ERROR = shapes.dumps(
    {
        "error": {
            "message": "internal error in the llmswitch gateway (see its log)",
            "type": "api_error",
            "param": None,
            "code": "internal_error",
        }
    }
)


def models_body(manager: LLMProviderManager) -> dict[str, Any]:
    """Every name a request may send: ``auto``, the groups, each ``provider/model`` target, then
    each plain model id and alias once (``owned_by``: the provider that answers it first)."""
    data: list[dict[str, Any]] = [_model("auto", "llmswitch")]
    data += [_model(name, "llmswitch") for name in manager.settings.models]
    plain: dict[str, str] = {}
    for name, provider in manager.planner.usable.items():
        for model in provider.models:
            data.append(_model(f"{name}/{model}", name))
            plain.setdefault(model, name)
        for alias in provider.aliases:
            plain.setdefault(alias, name)
        for model in provider.embedding_models:  # for POST /v1/embeddings, as OpenAI lists them
            data.append(_model(f"{name}/{model}", name))
            plain.setdefault(model, name)
    data += [_model(model, owner) for model, owner in plain.items()]
    return {"object": "list", "data": data}


def max_output(manager: LLMProviderManager, model: str | None) -> int | None:
    """The largest context window among the models ``model`` can reach, or None if unknown.

    ``max_tokens`` above it can never be honoured, so the request is refused before any quota is
    spent. An unknown model is left to the manager, whose error lists the valid ones.
    """
    try:
        choice = manager.planner.resolve(model)
    except LLMSwitchError:
        return None
    usable = manager.planner.usable
    windows = [usable[name].context_window(target) for name, target in choice.models.items()]
    if not windows or any(not w for w in windows):
        return None
    return max(w for w in windows if w)


def largest_context_window(manager: LLMProviderManager) -> int | None:
    """The largest configured context window, or None when some model's is unknown."""
    windows = [p.context_window(m) for p in manager.planner.usable.values() for m in p.models]
    if not windows or any(not w for w in windows):
        return None
    return max(w for w in windows if w)


def gateway_request_id(scope: Scope) -> str | None:
    """The id ``request_id.RequestId`` gave this request (the client's own when sane), which
    the manager writes to the ledger, the log lines and the alerts of the call."""
    state: dict[str, Any] = scope.get("state") or {}
    rid = state.get("request_id")
    return rid if isinstance(rid, str) else None


def _model(model_id: str, owner: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owner}


class OpenAIRoutes:
    """The ``/v1`` endpoints over one manager.

    Args:
        manager: the manager whose async API serves the calls.
        redact: masks any configured secret in outgoing error text.
    """

    def __init__(self, manager: LLMProviderManager, redact: shapes.Redact) -> None:
        self._manager = manager
        self._redact = redact
        listing = models_body(manager)
        self._models = shapes.dumps(listing)
        self._model_items = {item["id"]: shapes.dumps(item) for item in listing["data"]}
        self._max_output = functools.lru_cache(maxsize=256)(functools.partial(max_output, manager))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/chat/completions", Endpoint(self.chat_completions), methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/models/{model_id:path}", self.one_model, methods=["GET"]),
        ]

    async def models(self, request: Request) -> Response:
        return Response(self._models, media_type="application/json")

    async def one_model(self, request: Request) -> Response:
        """``GET /v1/models/{id}``: one name of the listing (ids may hold slashes)."""
        model_id = request.path_params["model_id"]
        item = self._model_items.get(model_id)
        if item is None:
            return not_found.openai_error(
                404,
                f"The model '{model_id[:200]}' does not exist on this gateway: GET /v1/models "
                "lists every name it routes (auto, groups, provider/model, ids and aliases).",
                code="model_not_found",
                param="model",
            )
        return Response(item, media_type="application/json")

    async def chat_completions(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /v1/chat/completions`` as a plain ASGI app (see ``raw_asgi`` for why)."""
        body = await read_body(receive)
        if body is None:  # the client went away mid-body: nobody to answer
            return
        rid = gateway_request_id(scope)
        try:
            reply = await self._chat_reply(scope, body, rid)
        except Exception:  # a bug must still answer in OpenAI's shape, and never leak details
            log.exception("llmswitch: chat completion failed unexpectedly (request %s)", rid)
            reply = JsonReply(500, INTERNAL_ERROR)
        await reply(scope, receive, send)

    async def _chat_reply(self, scope: Scope, body: bytes, rid: str | None) -> ASGIApp:
        try:
            payload = validate_chat_body(body, max_output=self._max_output)
            messages, model, stream, include_usage, params = shapes.parse_chat(payload)
        except shapes.BadInput as exc:
            return json_reply(*shapes.bad_input_reply(exc))
        sent = header(scope, b"x-llmswitch-continuation") or b""
        flag = sent.decode("latin-1").strip().lower()
        if flag not in ("", "on", "off"):
            return json_reply(
                *shapes.bad_input_reply(
                    shapes.BadInput(
                        f"x-llmswitch-continuation must be 'on' or 'off', got {flag[:20]!r}"
                    )
                )
            )
        params["request_id"] = rid
        try:
            if stream:
                if flag:
                    params["continuation"] = flag == "on"
                return await self._open_stream(messages, model, params, include_usage)
            result = await self._manager.achat(messages, model=model, **params)
        except LLMSwitchError as exc:
            return self._error(exc)
        reply = shapes.completion_body(result, completion_id=_new_id(), created=int(time.time()))
        headers = shapes.llmswitch_headers(
            result.provider, result.model, result.attempts, self._redact
        )
        headers["x-llmswitch-cost-usd"] = shapes.cost_header(result.cost_usd)
        key, windows = serving_key(result), served_windows(result)
        headers.update(await rate_limit_headers(self._manager, result.provider, key, windows))
        return JsonReply(200, shapes.dumps(reply), headers)

    def _error(self, exc: LLMSwitchError) -> JsonReply:
        status, body, headers = shapes.error_reply(exc, self._redact)
        return json_reply(status, body, headers)

    async def _open_stream(
        self,
        messages: list[dict[str, Any]],
        model: str | None,
        params: dict[str, Any],
        include_usage: bool,
    ) -> Response:
        chunks = self._manager.astream(messages, model=model, **params)
        first = await anext(chunks, None)
        if first is None:
            raise MalformedReply("the stream ended before its first chunk")
        if first.result is not None:
            attempts: list[Attempt] = list(first.result.attempts)
        else:  # a stream's attempts so far are known once it opens; the serving one is added
            attempts = [*chunks.attempts, Attempt(first.provider, first.model, "", Outcome.OK)]
        headers = shapes.llmswitch_headers(first.provider, first.model, attempts, self._redact)
        key = serving_key(first.result) if first.result is not None else first.key_alias
        windows = stream_windows(first, chunks)
        headers.update(await rate_limit_headers(self._manager, first.provider, key, windows))
        headers["cache-control"] = "no-cache"
        headers["x-accel-buffering"] = "no"
        return StreamingResponse(
            self._events(chunks, first, include_usage),
            media_type="text/event-stream",
            headers=headers,
        )

    async def _events(
        self, chunks: AsyncChatStream, first: StreamChunk, include_usage: bool
    ) -> AsyncIterator[bytes]:
        """SSE bytes: content chunks, the finish chunk, the usage chunk if asked, ``[DONE]``."""
        cid, created = _new_id(), int(time.time())
        result, opened = None, False
        chunk: StreamChunk | None = first
        try:
            while chunk is not None:
                if chunk.result is not None:
                    result = chunk.result
                elif chunk.text or chunk.raw:
                    yield shapes.sse(
                        shapes.chunk_body(
                            chunk, completion_id=cid, created=created, first=not opened
                        )
                    )
                    opened = True
                chunk = await anext(chunks, None)
            for body in shapes.closing_chunks(
                result,
                first.target,
                completion_id=cid,
                created=created,
                include_usage=include_usage,
            ):
                yield shapes.sse(body)
            yield shapes.SSE_DONE
        except LLMSwitchError as exc:
            yield shapes.sse(shapes.stream_error_event(exc, self._redact))
        finally:
            await chunks.aclose()


def _new_id() -> str:
    """``chatcmpl-<32 hex>``: a uuid4's 128 random bits without building the UUID object."""
    return "chatcmpl-" + os.urandom(16).hex()
