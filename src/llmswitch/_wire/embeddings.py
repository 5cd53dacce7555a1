"""The embeddings wire: ``POST …/embeddings`` (OpenAI, OpenRouter, Together, any compatible
server) and Gemini's native ``:batchEmbedContents`` (reference §8.1). No I/O.

- OpenAI-compatible: ``{model, input: [...], dimensions?, user?...}``; the reply's ``data`` is
  put back in input order by ``index``. No ``encoding_format`` is sent: floats are every
  server's default (Together documents only ``model`` and ``input``), and a base64 answer
  (little-endian float32 bytes, what the OpenAI SDK asks for) is decoded all the same.
- Gemini native: ``batchEmbedContents`` even for one text, as Google's own SDK does on the
  Developer API; ``dimensions`` is ``outputDimensionality`` on every item, ``task_type`` its
  ``taskType``. Its reply carries no token count.
- Usage is the provider's ``usage.prompt_tokens`` where it sends one, else None: the call
  machine then records its own estimate, so the ledger still counts the tokens.

Errors go through the chat wire's ``classify`` (the same bodies and statuses), so a 429 on
embeddings cools a key down exactly as one on chat does.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from llmswitch import _errors as errors
from llmswitch._types import EmbedRequest, Usage
from llmswitch._wire.base import CallContext, HttpRequest
from llmswitch._wire.classify import classify, classify_error, error_from_json


@dataclass(frozen=True, slots=True)
class EmbedReply:
    """The vectors of a successful reply, in input order; ``usage`` None when not reported."""

    vectors: list[list[float]]
    usage: Usage | None
    model: str


class EmbedWire(Protocol):
    def build(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        request: EmbedRequest,
        headers: Mapping[str, str] | None = None,
    ) -> HttpRequest: ...

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> EmbedReply: ...


def embed_wire_for(api: str) -> EmbedWire:
    """The embeddings wire of a catalog ``api`` (``"openai"`` or ``"gemini"``)."""
    return _GEMINI if api == "gemini" else _OPENAI


class OpenAIEmbeddings:
    """``POST {base_url}/embeddings`` in OpenAI's shape."""

    def build(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        request: EmbedRequest,
        headers: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        body: dict[str, Any] = dict(request.extra)
        body["model"] = model
        body["input"] = [i if isinstance(i, str) else list(i) for i in request.inputs]
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        out = {"content-type": "application/json", "accept": "application/json"}
        if api_key:  # local servers may need none
            out["authorization"] = f"Bearer {api_key}"
        out.update(headers or {})
        return HttpRequest("POST", base_url.rstrip("/") + "/embeddings", out, body)

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> EmbedReply:
        obj = _checked(status, headers, body, ctx)
        data = obj.get("data")
        if not isinstance(data, list) or not data:
            raise ctx.error(errors.MalformedReply, "embeddings reply has no data", status=status)
        items = sorted((d for d in data if isinstance(d, dict)), key=lambda d: _int(d.get("index")))
        vectors = [_vector(d.get("embedding"), ctx, status) for d in items]
        raw = obj.get("usage")
        usage = None
        if isinstance(raw, dict) and (raw.get("prompt_tokens") or raw.get("total_tokens")):
            usage = Usage(_int(raw.get("prompt_tokens") or raw.get("total_tokens")), 0)
        return EmbedReply(vectors, usage, str(obj.get("model") or ctx.model))


class GeminiEmbeddings:
    """``POST {base}/v1beta/models/{model}:batchEmbedContents``."""

    def build(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        request: EmbedRequest,
        headers: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        if request.token_arrays:
            raise errors.ConfigError(
                "Gemini's embedContent takes text only; send strings, not token arrays"
            )
        base = base_url.rstrip("/")
        if not base.endswith(("/v1beta", "/v1", "/v1alpha")):
            base += "/v1beta"
        own = model.removeprefix("models/")
        task = request.extra.get("task_type") or request.extra.get("taskType")
        items = []
        for text in request.inputs:
            item: dict[str, Any] = {
                "model": f"models/{own}",
                "content": {"parts": [{"text": text}]},
            }
            if request.dimensions is not None:
                item["outputDimensionality"] = request.dimensions
            if isinstance(task, str):
                item["taskType"] = task
            items.append(item)
        out = {
            "content-type": "application/json",
            "accept": "application/json",
            "x-goog-api-key": api_key,
        }
        out.update(headers or {})
        url = f"{base}/models/{own}:batchEmbedContents"
        return HttpRequest("POST", url, out, {"requests": items})

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> EmbedReply:
        obj = _checked(status, headers, body, ctx)
        items = obj.get("embeddings")
        if not isinstance(items, list) or not items:
            raise ctx.error(
                errors.MalformedReply, "batchEmbedContents reply has no embeddings", status=status
            )
        vectors = [
            _vector(item.get("values") if isinstance(item, dict) else None, ctx, status)
            for item in items
        ]
        return EmbedReply(vectors, None, ctx.model)


def _checked(
    status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
) -> dict[str, Any]:
    """The reply's JSON object, or the classified error a failed reply is."""
    if not 200 <= status < 300:
        raise classify(status, headers, body, ctx)
    try:
        obj = json.loads(body)
    except ValueError:
        snippet = body[:120].decode("utf-8", "replace")
        raise ctx.error(
            errors.MalformedReply, f"unparsable JSON: {snippet!r}", status=status
        ) from None
    if not isinstance(obj, dict):
        raise ctx.error(errors.MalformedReply, "reply is not a JSON object", status=status)
    err = error_from_json(obj)
    if err is not None:
        raise classify_error(status, headers, err, ctx)
    return obj


def _vector(raw: Any, ctx: CallContext, status: int) -> list[float]:
    if isinstance(raw, list) and raw and all(isinstance(v, int | float) for v in raw):
        return [float(v) for v in raw]
    if isinstance(raw, str):
        try:
            packed = base64.b64decode(raw, validate=True)
            if packed and len(packed) % 4 == 0:
                return list(struct.unpack(f"<{len(packed) // 4}f", packed))
        except (binascii.Error, ValueError):
            pass
    raise ctx.error(errors.MalformedReply, "an embedding is not a vector of numbers", status=status)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


_OPENAI = OpenAIEmbeddings()
_GEMINI = GeminiEmbeddings()
