"""Google's native Gemini wire: ``generateContent`` and ``streamGenerateContent?alt=sse``.

Requests are built by ``gemini_request.build_body`` (its docstring has the mapping: tools and
``tool_choice``, ``json_schema``, ``n``, tool results named after their calls). OpenAI-only
fields with no Gemini twin are not sent (the same ``ChatRequest`` is offered to every
provider); the capability check that skips a target which cannot honour them is the next step.

Replies are converted to the OpenAI shape (``raw``) so tools and the gateway see one format;
with ``candidateCount`` every candidate is a choice (``usageMetadata`` counts them all).
Output usage is ``candidatesTokenCount + thoughtsTokenCount``: thinking is billed as output.
A stream has no ``[DONE]``: it ends at EOF, after a chunk with ``finishReason``. An error after
the stream opened arrives as bare multi-line JSON (see ``wire/sse.py``). Up to three unparsable
``data:`` events are skipped and counted, not fatal, as on the OpenAI wire.

Example:
    >>> from llmswitch._types import ChatRequest, Message
    >>> request = ChatRequest((Message("user", "hi"),))
    >>> http = GeminiWire().build(base_url="https://generativelanguage.googleapis.com",
    ...                           api_key="AIza...", model="gemini-3.6-flash",
    ...                           request=request, stream=True)
    >>> http.url
    'https://generativelanguage.googleapis.com/v1beta/models/gemini-3.6-flash:streamGenerateContent?alt=sse'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmswitch import _errors as errors
from llmswitch._types import ChatRequest, Usage
from llmswitch._wire.base import CallContext, HttpRequest, StreamEvent, WireReply
from llmswitch._wire.classify import classify, classify_error, error_from_json
from llmswitch._wire.gemini_request import build_body
from llmswitch._wire.sse import (
    SSEMessage,
    SSEParser,
    skip_bad_event,
    skipped_summary,
)

_SAFETY = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "LANGUAGE",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
}


def finish_reason(reason: Any) -> str | None:
    """Gemini's ``finishReason`` in OpenAI's words (STOP -> stop, MAX_TOKENS -> length, ...)."""
    if not isinstance(reason, str) or reason in ("", "FINISH_REASON_UNSPECIFIED"):
        return None
    if reason == "STOP":
        return "stop"
    if reason == "MAX_TOKENS":
        return "length"
    return "content_filter" if reason in _SAFETY else reason.lower()


def usage_from(meta: Any) -> Usage | None:
    """``usageMetadata`` as ``Usage``: thinking and tool-use prompts are billed too."""
    if not isinstance(meta, dict):
        return None
    prompt = int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0)
    output = int(meta.get("candidatesTokenCount") or 0) + int(meta.get("thoughtsTokenCount") or 0)
    return Usage(prompt, output)


def _openai_usage(usage: Usage, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "completion_tokens_details": {"reasoning_tokens": int(meta.get("thoughtsTokenCount") or 0)},
    }


Answer = tuple[str, list[dict[str, Any]], str | None]  # text, OpenAI tool_calls, finish


def _candidates(obj: dict[str, Any]) -> list[tuple[int, Answer]]:
    """Every candidate as (index, answer): with ``candidateCount`` (chat's ``n``) each is a
    choice of the reply, and ``usageMetadata`` already counts them all."""
    candidates = obj.get("candidates")
    if not isinstance(candidates, list):
        return []
    return [(int(c.get("index") or 0), _answer(c)) for c in candidates if isinstance(c, dict)]


def _candidate(obj: dict[str, Any]) -> Answer:
    """The first candidate's answer (a stream chunk carries one); ``("", [], None)`` if none."""
    found = _candidates(obj)
    return found[0][1] if found else ("", [], None)


def _answer(first: dict[str, Any]) -> Answer:
    """(text, OpenAI tool_calls, finish reason) of one candidate; thoughts skipped."""
    content = _dict(first.get("content"))
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in content.get("parts") or []:
        if not isinstance(part, dict) or part.get("thought"):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            calls.append(
                {
                    "id": call.get("id") or f"call_{len(calls)}",
                    "type": "function",
                    "function": {
                        "name": call.get("name", ""),
                        "arguments": json.dumps(call.get("args") or {}),
                    },
                }
            )
    finish = finish_reason(first.get("finishReason"))
    if calls and finish == "stop":
        finish = "tool_calls"
    return "".join(texts), calls, finish


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _blocked(obj: dict[str, Any], ctx: CallContext) -> errors.ProviderError | None:
    feedback = obj.get("promptFeedback")
    if obj.get("candidates") or not isinstance(feedback, dict) or not feedback.get("blockReason"):
        return None
    return ctx.error(
        errors.ContentFiltered, f"prompt blocked by Gemini: {feedback['blockReason']}", status=200
    )


def _load(body: bytes | str, ctx: CallContext, status: int) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except ValueError:
        snippet = body[:120] if isinstance(body, str) else body[:120].decode("utf-8", "replace")
        raise ctx.error(
            errors.MalformedReply, f"unparsable JSON: {snippet!r}", status=status
        ) from None
    return _checked(obj, ctx, status)


def _checked(obj: Any, ctx: CallContext, status: int) -> dict[str, Any]:
    """Parsed JSON as a reply object; an error object or a blocked prompt raises."""
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        obj = obj[0]
    if not isinstance(obj, dict):
        raise ctx.error(errors.MalformedReply, "reply is not a JSON object", status=status)
    err = error_from_json(obj)
    if err is not None:
        raise classify_error(status, {}, err, ctx)
    blocked = _blocked(obj, ctx)
    if blocked is not None:
        raise blocked
    return obj


def _choice(index: int, answer: Answer) -> dict[str, Any]:
    text, calls, finish = answer
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return {"index": index, "message": message, "finish_reason": finish}


class GeminiWire:
    """Builds, parses and classifies Gemini ``generateContent`` calls (no I/O)."""

    name = "gemini"

    def build(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        request: ChatRequest,
        stream: bool,
        headers: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        base = base_url.rstrip("/")
        if not base.endswith(("/v1beta", "/v1", "/v1alpha")):
            base += "/v1beta"
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        out = {
            "content-type": "application/json",
            "x-goog-api-key": api_key,
            "accept": "text/event-stream" if stream else "application/json",
        }
        out.update(headers or {})
        return HttpRequest(
            method="POST",
            url=f"{base}/models/{model.removeprefix('models/')}:{action}",
            headers=out,
            json=build_body(request),
            stream=stream,
        )

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> WireReply:
        if not 200 <= status < 300:
            raise self.classify(status, headers, body, ctx)
        obj = _load(body, ctx, status)
        text, _, finish = _candidate(obj)
        meta = _dict(obj.get("usageMetadata"))
        usage = usage_from(meta) or Usage()
        model = str(obj.get("modelVersion") or ctx.model)
        choices = [_choice(i, answer) for i, answer in _candidates(obj)] or [
            _choice(0, ("", [], None))
        ]
        raw = {
            "id": str(obj.get("responseId") or ""),
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": choices,
            "usage": _openai_usage(usage, meta),
        }
        return WireReply(text=text, usage=usage, finish_reason=finish, model=model, raw=raw)

    def classify(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> errors.ProviderError:
        return classify(status, headers, body, ctx)

    def stream_decoder(self, ctx: CallContext) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(ctx)


class GeminiStreamDecoder:
    """Decodes ``alt=sse`` chunks; the chunk with ``finishReason`` is the terminator.

    There is no ``[DONE]``: a clean EOF after a ``finishReason`` is the sound end, one without
    it a cut stream (MalformedReply). An unparsable ``data:`` event is skipped and recorded in
    ``skipped_events`` / ``first_bad_event``; more than three fail the stream.
    A bare JSON block (Google's error after the stream opened) is never skipped: it is either
    the error, raised as classified, or malformed.
    """

    __slots__ = ("_ctx", "_finished", "_parser", "first_bad_event", "skipped_events")

    def __init__(self, ctx: CallContext) -> None:
        self._ctx = ctx
        self._parser = SSEParser()
        self._finished = False
        self.skipped_events = 0
        self.first_bad_event: str | None = None

    def feed(self, line: str) -> list[StreamEvent]:
        messages = self._parser.feed(line)
        return [e for m in messages for e in self._on_message(m)] if messages else []

    def close(self) -> list[StreamEvent]:
        events = [e for m in self._parser.close() for e in self._on_message(m)]
        if not self._finished:
            raise self._ctx.error(
                errors.MalformedReply,
                "stream ended without a terminator (no finishReason)" + skipped_summary(self),
                status=200,
            )
        return events

    def _on_message(self, message: SSEMessage) -> list[StreamEvent]:
        if message.event == "bare":
            obj = _load(message.data, self._ctx, 200)
        else:
            try:
                parsed = json.loads(message.data)
            except ValueError:
                skip_bad_event(self, message.data, self._ctx)
                return []
            obj = _checked(parsed, self._ctx, 200)
        return [self._event(obj)]

    def _event(self, obj: dict[str, Any]) -> StreamEvent:
        text, calls, finish = _candidate(obj)
        meta = obj.get("usageMetadata")
        usage = usage_from(meta)
        delta: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(calls)]
        raw: dict[str, Any] = {
            "id": str(obj.get("responseId") or ""),
            "object": "chat.completion.chunk",
            "created": 0,
            "model": str(obj.get("modelVersion") or self._ctx.model),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None and isinstance(meta, dict):
            raw["usage"] = _openai_usage(usage, meta)
        if finish is not None:
            self._finished = True
        return StreamEvent(
            text=text,
            raw=raw,
            usage=usage,
            finish_reason=finish,
            done=finish is not None,
            answering=bool(calls),
        )
