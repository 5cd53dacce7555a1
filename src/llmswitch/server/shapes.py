"""Pure mapping between llmswitch values and OpenAI's wire shapes, with no I/O.

Kept apart from the handlers so each rule (which status a failure gets, what an SSE chunk looks
like, which headers name the attempts) is a small function a test can call directly. Bodies are
built as plain dicts and dumped with the stdlib ``json``: no pydantic on the hot path.

Status rules, read by clients such as the official ``openai`` SDK:

- 400 ``invalid_request_error``: the request is wrong (unknown model, bad field) or a provider
  refused its content (bad_request, content_filter, context_too_long); failing over would only
  burn other quotas.
- 429 with ``Retry-After`` (the earliest recovery): every provider is at its limit.
- 502: every provider failed, and at least one failed upstream (5xx, timeout, reset, garbage).
- 503: nothing could be tried now (cooling down, no key, state store down).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from llmswitch._errors import (
    AllProvidersFailed,
    BadRequest,
    ConfigError,
    ContentFiltered,
    ContextTooLong,
    LLMSwitchError,
    LocalFault,
    ProviderError,
)
from llmswitch._types import Attempt, ChatResult, FailureKind, Outcome, StreamChunk, Usage

Redact = Callable[[str], str]

UPSTREAM_FAILURES = frozenset(
    {
        FailureKind.SERVER_ERROR.value,
        FailureKind.TIMEOUT.value,
        FailureKind.CONNECTION.value,
        FailureKind.MALFORMED_REPLY.value,
    }
)
#: OpenAI's error codes for the bad requests that have one, by exception class.
_CODES: tuple[tuple[type[BadRequest], str], ...] = (
    (ContextTooLong, "context_length_exceeded"),
    (ContentFiltered, "content_filter"),
)
_UNSAFE = re.compile(r"[^\x20-\x7e]+")
NO_PROVIDER = "none"


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class BadInput(Exception):
    """The request body is not a valid chat completion request; the message says why.

    ``param`` names the field (``messages[0].role``) and ``code`` the kind of fault
    (``invalid_json``, ``invalid_value``, ``missing_required_parameter``...), as OpenAI does.
    """

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


# -- replies ----------------------------------------------------------------------------------


def usage_json(usage: Usage, cost: float | None = None) -> dict[str, Any]:
    """OpenAI's usage; with ``cost`` also OpenRouter's ``usage.cost`` (USD, every attempt that
    was billed: a stream continued on another model costs both)."""
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if cost is not None:
        out["cost"] = round(cost, 10)
    return out


def completion_body(result: ChatResult, *, completion_id: str, created: int) -> dict[str, Any]:
    """The reply in OpenAI's shape: the provider's own reply when it has one (tools, ids...)."""
    raw = result.raw
    if raw and isinstance(raw.get("choices"), list) and raw["choices"]:
        body = dict(raw)
        body.setdefault("id", completion_id)
        body.setdefault("created", created)
        body["object"] = "chat.completion"
        body["model"] = result.target  # provider/model: send it back to reach the same target
        usage = body.get("usage")
        body["usage"] = (
            {**usage, "cost": round(result.cost_usd, 10)}
            if usage
            else usage_json(result.usage, result.cost_usd)
        )
        return body
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": result.target,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.text},
                "finish_reason": result.finish_reason or "stop",
                "logprobs": None,
            }
        ],
        "usage": usage_json(result.usage, result.cost_usd),
    }


def chunk_body(
    chunk: StreamChunk, *, completion_id: str, created: int, first: bool
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; the finish reason is held back for the closing chunk."""
    delta: dict[str, Any] = {}
    raw = chunk.raw
    if raw and isinstance(raw.get("choices"), list) and raw["choices"]:
        choice = raw["choices"][0]
        if isinstance(choice, dict) and isinstance(choice.get("delta"), dict):
            delta = dict(choice["delta"])
    if not delta:
        delta = {"content": chunk.text}
    if first:
        delta["role"] = "assistant"
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": chunk.target,
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def closing_chunks(
    result: ChatResult | None, model: str, *, completion_id: str, created: int, include_usage: bool
) -> list[dict[str, Any]]:
    """The finish-reason chunk and, when asked, OpenAI's usage chunk (``choices: []``)."""
    base = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }
    finish = (result.finish_reason if result else None) or "stop"
    out = [{**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}]
    if include_usage:
        usage = result.usage if result else Usage()
        cost = result.cost_usd if result else 0.0
        out.append({**base, "choices": [], "usage": usage_json(usage, cost)})
    return out


def sse(body: dict[str, Any]) -> bytes:
    return b"data: " + dumps(body) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


# -- headers ----------------------------------------------------------------------------------


def header_safe(text: str, limit: int = 1000) -> str:
    """Printable ASCII only, no commas, one clean line; past ``limit`` cut at the last word
    boundary and marked `` ...`` (never mid-word: the reason is for people to read)."""
    clean = " ".join(_UNSAFE.sub(" ", text).replace(",", ";").split())
    if len(clean) <= limit:
        return clean
    cut = clean[: limit - 4]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ;:") + " ..."


def cost_header(cost: float) -> str:
    """``x-llmswitch-cost-usd``: the call's cost in USD, as LiteLLM's cost header gives it."""
    return f"{cost:.10f}".rstrip("0").rstrip(".") if cost else "0"


def attempts_header(attempts: Iterable[Attempt]) -> str:
    """``groq:not_admitted,gemini:ok``: every provider key tried, in order, with its outcome."""
    return ",".join(f"{a.provider}:{a.outcome}" for a in attempts)


def llmswitch_headers(
    provider: str | None, model: str | None, attempts: Sequence[Attempt], redact: Redact
) -> dict[str, str]:
    """The ``x-llmswitch-*`` headers every reply carries; ``reason`` names the first refusal."""
    headers = {
        "x-llmswitch-provider": provider or NO_PROVIDER,
        "x-llmswitch-model": model or NO_PROVIDER,
        "x-llmswitch-attempts": attempts_header(attempts),
    }
    first_refusal = next((a for a in attempts if not a.ok), None)
    if first_refusal is not None:
        headers["x-llmswitch-reason"] = header_safe(
            redact(f"{first_refusal.provider}: {first_refusal.outcome}: {first_refusal.message}")
        )
    return headers


# -- errors -----------------------------------------------------------------------------------


def attempt_json(a: Attempt, redact: Redact) -> dict[str, Any]:
    return {
        "provider": a.provider,
        "model": a.model,
        "key": a.key_alias,
        "outcome": a.outcome,
        "message": redact(a.message),
        "status": a.status,
        "retry_after": round(a.retry_after, 3) if a.retry_after is not None else None,
    }


def error_status(exc: LLMSwitchError) -> tuple[int, str, str | None]:
    """(HTTP status, OpenAI error type, code) for a failure."""
    if isinstance(exc, AllProvidersFailed):
        if exc.local:  # nothing left this machine: ours, not the providers'
            return 503, "api_error", "local_fault"
        if exc.all_rate_limited:
            return 429, "rate_limit_error", "rate_limit_exceeded"
        if any(_upstream(a) for a in exc.attempts):
            return 502, "api_error", "upstream_failed"
        return 503, "api_error", "no_provider_available"
    if isinstance(exc, LocalFault):  # this gateway could not reach out: ours, not upstream's
        return 503, "api_error", "local_fault"
    if isinstance(exc, ProviderError):
        if isinstance(exc, BadRequest):  # the caller's request: another provider refuses it too
            code = next((c for cls, c in _CODES if isinstance(exc, cls)), None)
            return 400, "invalid_request_error", code
        return 502, "api_error", exc.kind.value
    if isinstance(exc, ConfigError):
        return 400, "invalid_request_error", None
    return 503, "api_error", "unavailable"


def _upstream(a: Attempt) -> bool:
    return a.outcome in UPSTREAM_FAILURES or a.outcome is Outcome.AUTH_FAILED  # sent: a 401/403


def error_attempts(exc: LLMSwitchError) -> tuple[Attempt, ...]:
    return tuple(getattr(exc, "attempts", ()) or ())


def error_reply(exc: LLMSwitchError, redact: Redact) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, OpenAI error JSON naming every attempt, extra headers such as Retry-After)."""
    status, kind, code = error_status(exc)
    attempts = error_attempts(exc)
    body = {
        "error": {
            "message": redact(str(exc)),
            "type": kind,
            "param": None,
            "code": code,
            "attempts": [attempt_json(a, redact) for a in attempts],
        }
    }
    headers = llmswitch_headers(None, None, attempts, redact)
    retry_after = getattr(exc, "retry_after", None)
    if status in (429, 503) and retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(retry_after)))
    return status, body, headers


def bad_input_reply(exc: BadInput) -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": {
            "message": str(exc),
            "type": "invalid_request_error",
            "param": exc.param,
            "code": exc.code,
        }
    }


def stream_error_event(exc: LLMSwitchError, redact: Redact) -> dict[str, Any]:
    """An error after the first token: sent as an SSE event so the client cannot mistake a cut
    stream for a complete answer (the ``openai`` SDK raises ``APIError`` on it)."""
    _, body, _ = error_reply(exc, redact)
    return dict(body)


# -- requests ---------------------------------------------------------------------------------

# Fields the gateway consumes itself; the rest goes to the provider untouched. The manager's own
# keyword arguments are dropped too, so a body cannot switch routing options it does not own.
_CONTROL = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "provider_name",
        "strict",
        "max_wait",
        "continuation",
    }
)


def parse_chat(payload: Any) -> tuple[list[dict[str, Any]], str | None, bool, bool, dict[str, Any]]:
    """(messages, model, stream, include_usage, pass-through params) from a request body."""
    if not isinstance(payload, dict):
        raise BadInput("the body must be a JSON object")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadInput("'messages' must be a non-empty array", param="messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise BadInput(f"messages[{i}] must be an object with a 'role'", param=f"messages[{i}]")
    model = payload.get("model")
    if model is not None and not isinstance(model, str):
        raise BadInput(
            "'model' must be a string ('auto', an alias or 'provider/model')", param="model"
        )
    stream = payload.get("stream") is True
    options = payload.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    params = {k: v for k, v in payload.items() if k not in _CONTROL and v is not None}
    return messages, model, stream, include_usage, params
