"""Embeddings: ``POST …/embeddings`` (OpenAI shape) and Gemini's ``:embedContent`` /
``:batchEmbedContents``, each as its provider documents it (reference §8.1).

Vectors are deterministic: a unit vector of the model's dimension seeded by the model id and
the text, so the same text always embeds the same way and two texts differ. ``dimensions``
(OpenAI's 3-series, OpenRouter, Gemini's ``outputDimensionality``) keeps the first N components,
renormalised, as Matryoshka models do; ``text-embedding-ada-002`` refuses it with OpenAI's 400.
``encoding_format: "base64"`` (what the OpenAI SDK asks for by default) answers base64 of the
little-endian float32 bytes. Usage: ``ceil(len(text) / 4)`` tokens per input (a token array
counts its length); Together's reply has no ``usage`` and OpenRouter's adds ``cost``; Gemini's
native replies carry no usage at all. Limits: OpenAI refuses an input above 8192 tokens and an
array above 2048 items; Gemini's batch above 100 requests; Together truncates silently. Groq
serves no embedding model: every request is its model-not-found 404.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmswitch.simulator.asgi import Exchange, Reply
from llmswitch.simulator.engine import Call

if TYPE_CHECKING:
    from llmswitch.simulator.engine import Flavour

OPENAI_MAX_INPUT_TOKENS = 8192
OPENAI_MAX_ITEMS = 2048
GEMINI_MAX_BATCH = 100


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    """An embedding model: its vector size and whether ``dimensions`` may shorten it."""

    id: str
    dimensions: int
    shortens: bool = True
    price_per_token: float = 0.0  # OpenRouter's reply reports the cost


EMBEDDING_MODELS: dict[str, dict[str, EmbeddingModel]] = {
    "openai": {
        "text-embedding-3-small": EmbeddingModel("text-embedding-3-small", 1536),
        "text-embedding-3-large": EmbeddingModel("text-embedding-3-large", 3072),
        "text-embedding-ada-002": EmbeddingModel("text-embedding-ada-002", 1536, shortens=False),
    },
    "openrouter": {
        "openai/text-embedding-3-small": EmbeddingModel(
            "openai/text-embedding-3-small", 1536, price_per_token=0.02e-6
        ),
        "qwen/qwen3-embedding-0.6b": EmbeddingModel(
            "qwen/qwen3-embedding-0.6b", 1024, price_per_token=0.01e-6
        ),
    },
    "together": {
        "intfloat/multilingual-e5-large-instruct": EmbeddingModel(
            "intfloat/multilingual-e5-large-instruct", 1024, shortens=False
        ),
    },
    "gemini": {"gemini-embedding-001": EmbeddingModel("gemini-embedding-001", 3072)},
    "groq": {},
}


def vector(model: str, text: str, dimensions: int) -> list[float]:
    """The unit vector of ``text`` under ``model``, first ``dimensions`` components."""
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{text}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 7) for v in values]


def encode(values: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
    return values


def input_tokens(item: Any) -> int:
    if isinstance(item, list):
        return len(item)
    return math.ceil(len(str(item)) / 4)


def _texts(raw: Any) -> list[Any] | None:
    """The inputs of an OpenAI ``input`` (string, strings, token array, token arrays)."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(x, int) for x in raw):
            return [raw]
        if all(isinstance(x, (str, list)) for x in raw):
            return list(raw)
    return None


async def parse_openai(flavour: Flavour, ex: Exchange, key: str) -> Call | Reply:
    """An OpenAI-shaped embeddings request as a ``Call`` (surface ``embeddings``)."""
    body = await ex.json()
    bad = flavour.bad_request
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return bad("you must provide a model parameter", "model", None)
    model = EMBEDDING_MODELS[flavour.name].get(body["model"])
    if model is None:
        return flavour.model_error(body["model"], "unknown")
    texts = _texts(body.get("input"))
    if texts is None:
        return bad("'input' : input must be a string or an array of strings", "input", None)
    if flavour.name == "openai":
        refusal = _openai_limits(texts, bad)
        if refusal is not None:
            return refusal
    dims = body.get("dimensions")
    if dims is not None and (not model.shortens or not isinstance(dims, int) or dims < 1):
        return bad("This model does not support specifying dimensions.", "dimensions", None)
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return bad(
            f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'.",
            "encoding_format",
            "invalid_value",
        )
    call = _call(flavour, key, model, texts)
    call.extra.update(dimensions=min(dims or model.dimensions, model.dimensions), encoding=encoding)
    return call


def _openai_limits(texts: list[Any], bad: Callable[..., Reply]) -> Reply | None:
    if len(texts) > OPENAI_MAX_ITEMS:
        return bad(
            f"'$.input' is invalid: array too long ({len(texts)} > {OPENAI_MAX_ITEMS}).",
            "input",
            None,
        )
    for item in texts:
        tokens = input_tokens(item)
        if tokens > OPENAI_MAX_INPUT_TOKENS:
            return bad(
                f"This model's maximum context length is {OPENAI_MAX_INPUT_TOKENS} tokens, "
                f"however you requested {tokens} tokens. Please reduce your prompt.",
                "input",
                "context_length_exceeded",
            )
    return None


def _call(flavour: Flavour, key: str, model: EmbeddingModel, texts: list[Any]) -> Call:
    sim = flavour.sim
    number = sim.next_id()
    call = Call(
        provider=flavour.name,
        model=model.id,
        key=key,
        stream=False,
        prompt_tokens=sum(input_tokens(t) for t in texts),
        max_tokens=None,
        answers=[],
        rid=f"embd-sim{number:012d}",
        created=int(sim.clock()),
        surface="embeddings",
    )
    call.extra["texts"] = texts
    call.extra["price"] = model.price_per_token
    return call


def openai_reply(call: Call) -> dict[str, Any]:
    """The ``{"object": "list", "data": [...], "model", "usage"}`` reply, per provider."""
    dims, encoding = call.extra["dimensions"], call.extra["encoding"]
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": encode(vector(call.model, _as_text(t), dims), encoding),
        }
        for i, t in enumerate(call.extra["texts"])
    ]
    out: dict[str, Any] = {"object": "list", "data": data, "model": call.model}
    if call.provider == "together":
        return out  # documented without usage
    out["usage"] = {"prompt_tokens": call.prompt_tokens, "total_tokens": call.prompt_tokens}
    if call.provider == "openrouter":
        out["id"] = call.rid
        out["usage"]["cost"] = round(call.prompt_tokens * call.extra["price"], 12)
    return out


def _as_text(item: Any) -> str:
    return item if isinstance(item, str) else " ".join(str(t) for t in item)


async def parse_native(flavour: Flavour, ex: Exchange, key: str) -> Call | Reply:
    """``:embedContent`` (one ``content``) or ``:batchEmbedContents`` (``requests``)."""
    body = await ex.json()
    bad = flavour.bad_request
    name = str(ex.scope["sim.model"]).removeprefix("models/")
    model = EMBEDDING_MODELS["gemini"].get(name)
    if model is None:
        return flavour.model_error(name, "unknown")
    batch = ex.scope["sim.method"] == "batchEmbedContents"
    if not isinstance(body, dict):
        return bad("Invalid JSON payload received.")
    requests = body.get("requests") if batch else [body]
    if not isinstance(requests, list) or not requests:
        return bad("* BatchEmbedContentsRequest.requests: requests must not be empty.")
    if len(requests) > GEMINI_MAX_BATCH:
        return bad(
            f"* BatchEmbedContentsRequest.requests: at most {GEMINI_MAX_BATCH} requests can be "
            "in one batch"
        )
    texts, dims = [], []
    for i, item in enumerate(requests):
        parts = ((item or {}).get("content") or {}).get("parts")
        if not isinstance(parts, list) or not parts:
            return bad(f"* requests[{i}].content: content.parts must not be empty.")
        texts.append("".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)))
        dims.append(
            min(int(item.get("outputDimensionality") or model.dimensions), model.dimensions)
        )
    call = _call(flavour, key, model, texts)
    call.extra.update(batch=batch, dims=dims)
    return call


def native_reply(call: Call) -> dict[str, Any]:
    embeddings = [
        {"values": vector(call.model, text, dims)}
        for text, dims in zip(call.extra["texts"], call.extra["dims"], strict=True)
    ]
    return {"embeddings": embeddings} if call.extra["batch"] else {"embedding": embeddings[0]}
