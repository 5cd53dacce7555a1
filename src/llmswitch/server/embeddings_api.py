"""``POST /v1/embeddings``: OpenAI's embeddings API in front of the manager's ``aembed``.

What the official SDK's ``client.embeddings.create`` sends is accepted as it is: ``input`` (a
string, a list of strings, a token array or a list of token arrays), ``model``,
``encoding_format`` (``float``, or ``base64``: little-endian float32 bytes, which the SDK asks
for by default and decodes itself), ``dimensions`` and ``user``. The reply is OpenAI's list
shape with ``usage`` (``usage.cost`` in USD, as OpenRouter adds it) and the headers every chat
reply carries (``x-llmswitch-provider`` / ``-model`` / ``-attempts`` / ``-reason``,
``x-llmswitch-cost-usd``, the serving key's ``x-ratelimit-*``); ``model`` is the
``provider/model`` that served, which reaches that very target again.

A call fails over only among the targets of one embedding model (``_embeddings``), so an app
never gets vectors of two models mixed in one index. Bad input is a 400 naming the field; a chat
model or an unknown name is a 400 ``model_not_found`` listing the embedding models.
"""

from __future__ import annotations

import base64
import json
import logging
import struct
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from llmswitch._errors import ConfigError, LLMSwitchError
from llmswitch.server import shapes
from llmswitch.server.ratelimit_headers import rate_limit_headers, served_windows

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager
    from llmswitch._types import EmbeddingResult

log = logging.getLogger("llmswitch.server")

#: Body fields the gateway reads itself; others go to OpenAI-compatible providers as they are.
_OWN = frozenset({"input", "model", "encoding_format", "dimensions", "provider"})
#: The manager's own keyword arguments: a body may not switch routing options it does not own.
_CONTROL = frozenset({"provider_name", "strict", "max_wait", "free_wait", "request_id"})
ENCODINGS = ("float", "base64")


def parse_embeddings(payload: Any) -> tuple[Any, str | None, str, dict[str, Any]]:
    """(input, model, encoding_format, keyword arguments for ``aembed``) from a request body.

    Raises:
        shapes.BadInput: naming the field and what it must be.
    """
    if not isinstance(payload, dict):
        raise shapes.BadInput("the body must be a JSON object", code="invalid_json")
    if "input" not in payload:
        raise shapes.BadInput(
            "'input' is required: a string, a list of strings or a list of token arrays",
            param="input",
            code="missing_required_parameter",
        )
    inputs = payload["input"]
    if not _valid_input(inputs):
        raise shapes.BadInput(
            "'input' must be a non-empty string, a list of non-empty strings, a token array "
            "(a list of integers) or a list of token arrays; got "
            f"{_kind(inputs)}",
            param="input",
            code="invalid_value",
        )
    model = payload.get("model")
    if model is not None and not isinstance(model, str):
        raise shapes.BadInput(
            "'model' must be a string: an embedding model id (GET /v1/models lists them), a "
            "group or 'provider/model'",
            param="model",
        )
    encoding = payload.get("encoding_format") or "float"
    if encoding not in ENCODINGS:
        raise shapes.BadInput(
            f"'encoding_format' must be 'float' or 'base64'; got {str(encoding)[:40]!r}",
            param="encoding_format",
            code="invalid_value",
        )
    params: dict[str, Any] = {}
    dims = payload.get("dimensions")
    if dims is not None:
        if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
            raise shapes.BadInput(
                "'dimensions' must be an integer >= 1 (the models that can shorten their "
                "vectors: text-embedding-3-*, gemini-embedding-001, ...)",
                param="dimensions",
                code="invalid_value",
            )
        params["dimensions"] = dims
    user = payload.get("user")
    if user is not None and not isinstance(user, str):
        raise shapes.BadInput("'user' must be a string", param="user", code="invalid_value")
    if payload.get("provider") is not None:
        params["provider"] = payload["provider"]
    params.update({k: v for k, v in payload.items() if k not in _OWN | _CONTROL and v is not None})
    return inputs, model or None, encoding, params


def _valid_input(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(v, str) and v for v in value):
        return True
    if all(_token(v) for v in value):
        return True
    return all(isinstance(v, list) and v and all(_token(t) for t in v) for v in value)


def _token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else "a list of mixed or unsupported items"
    if value == "":
        return "an empty string"
    return type(value).__name__ if value is not None else "null"


def embeddings_body(result: EmbeddingResult, encoding: str) -> dict[str, Any]:
    """OpenAI's ``{"object": "list", "data", "model", "usage"}``, vectors as asked."""
    data = [
        {"object": "embedding", "index": i, "embedding": encode(vector, encoding)}
        for i, vector in enumerate(result.vectors)
    ]
    tokens = result.usage.prompt_tokens
    return {
        "object": "list",
        "data": data,
        "model": result.target,
        "usage": {
            "prompt_tokens": tokens,
            "total_tokens": tokens,
            "cost": round(result.cost_usd, 10),
        },
    }


def encode(vector: list[float], encoding: str) -> list[float] | str:
    """``base64``: the little-endian float32 bytes the OpenAI SDK decodes; else the floats."""
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


class EmbeddingsRoutes:
    """``POST /v1/embeddings`` over one manager.

    Args:
        manager: serves the calls through ``aembed``.
        redact: masks any configured secret in outgoing error text.
    """

    def __init__(self, manager: LLMProviderManager, redact: shapes.Redact) -> None:
        self._manager = manager
        self._redact = redact

    def routes(self) -> list[BaseRoute]:
        return [Route("/v1/embeddings", self.embeddings, methods=["POST"])]

    async def embeddings(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            return _bad(shapes.BadInput("the body is not valid JSON", code="invalid_json"))
        try:
            inputs, model, encoding, params = parse_embeddings(payload)
        except shapes.BadInput as exc:
            return _bad(exc)
        try:  # the name first: a chat model or an unknown one is the caller's 400 on 'model'
            self._manager.embed_planner.resolve(model)
        except ConfigError as exc:
            return _bad(shapes.BadInput(str(exc), param="model", code="model_not_found"))
        rid = _request_id(request)
        if rid is not None:
            params["request_id"] = rid
        try:
            result = await self._manager.aembed(inputs, model=model, **params)
        except LLMSwitchError as exc:
            status, body, headers = shapes.error_reply(exc, self._redact)
            return _json(status, body, headers)
        except Exception:  # a bug must still answer in OpenAI's shape, and never leak details
            log.exception("llmswitch: embeddings failed unexpectedly (request %s)", rid)
            body = {
                "error": {
                    "message": "internal error in the llmswitch gateway (see its log)",
                    "type": "api_error",
                    "param": None,
                    "code": "internal_error",
                }
            }
            return _json(500, body)
        headers = shapes.llmswitch_headers(
            result.provider, result.model, result.attempts, self._redact
        )
        headers["x-llmswitch-cost-usd"] = shapes.cost_header(result.cost_usd)
        key = next((a.key_alias for a in reversed(result.attempts) if a.ok), "")
        windows = served_windows(result)
        headers.update(await rate_limit_headers(self._manager, result.provider, key, windows))
        return _json(200, embeddings_body(result, encoding), headers)


def _request_id(request: Request) -> str | None:
    """The id the ``RequestId`` middleware gave this request, for the ledger and the logs."""
    state: dict[str, Any] = request.scope.get("state") or {}
    rid = state.get("request_id")
    return rid if isinstance(rid, str) else None


def _bad(exc: shapes.BadInput) -> Response:
    return _json(*shapes.bad_input_reply(exc))


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        shapes.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )
