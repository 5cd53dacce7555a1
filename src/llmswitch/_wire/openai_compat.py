"""The OpenAI chat-completions wire: Groq, OpenRouter, Together, OpenAI, Gemini's compatible
endpoint, and any compatible server (vLLM, Ollama, LM Studio).

Provider quirks are data, not subclasses: this one module handles each provider's dialect
where it shows on the wire.

- Usage: the ``usage`` chunk (``stream_options.include_usage``, OpenAI/Groq), usage on the final
  ``finish_reason`` chunk (Together) or the last chunk (OpenRouter); Groq's ``x_groq.usage`` on
  the final chunk counts when no standard usage came.
- Finish reasons: Together's ``eos`` is ``stop``; OpenRouter's ``error`` raises the embedded error.
- Errors inside a 200 (OpenRouter, Groq ``x_groq.error``, an SSE ``event: error``) raise the
  classified error; see ``wire/classify.py`` for the table.
- OpenRouter's ``: OPENROUTER PROCESSING`` keep-alives are SSE comments and are skipped.
- The end: ``data: [DONE]``, or a clean EOF after a ``finish_reason`` (servers that omit the
  terminator). Up to three unparsable events are skipped and counted, not fatal.

Example:
    >>> from llmswitch._types import ChatRequest, Message
    >>> request = ChatRequest((Message("user", "hi"),))
    >>> wire = OpenAICompatWire()
    >>> http = wire.build(base_url="https://api.openai.com/v1", api_key="sk-...",
    ...                   model="gpt-4o-mini", request=request, stream=True)
    >>> decoder = wire.stream_decoder(CallContext("openai", "gpt-4o-mini", "main"))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmswitch import _errors as errors
from llmswitch._types import ChatRequest, Usage
from llmswitch._wire.base import CallContext, HttpRequest, StreamEvent, WireReply
from llmswitch._wire.classify import ErrorBody, classify, classify_error, error_from_json
from llmswitch._wire.sse import (
    SSEMessage,
    SSEParser,
    skip_bad_event,
    skipped_summary,
)

FINISH_REASONS = {"eos": "stop", "eos_token": "stop", "stop_sequence": "stop"}


def normalize_finish(reason: Any) -> str | None:
    """The OpenAI spelling of a finish reason (``eos`` -> ``stop``); ``None`` stays ``None``."""
    if not isinstance(reason, str) or not reason:
        return None
    return FINISH_REASONS.get(reason, reason)


def usage_from(raw: Any) -> Usage | None:
    """An OpenAI ``usage`` object as ``Usage``; ``None`` when absent or not an object."""
    if not isinstance(raw, dict):
        return None
    try:
        return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))
    except (TypeError, ValueError):
        return None


def build_body(model: str, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The chat-completions JSON body; ``request.extra`` passes through untouched."""
    body: dict[str, Any] = dict(request.extra)
    body["model"] = model
    body["messages"] = [m.as_openai() for m in request.messages]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    # OpenAI refuses both at once; max_completion_tokens is the newer name and wins
    if request.max_tokens is not None and "max_completion_tokens" not in body:
        body["max_tokens"] = request.max_tokens
    body["stream"] = stream
    if stream:
        options = body.get("stream_options")
        body["stream_options"] = {
            **(options if isinstance(options, dict) else {}),
            "include_usage": True,
        }
    else:
        body.pop("stream_options", None)
    return body


class OpenAICompatWire:
    """Builds, parses and classifies OpenAI-compatible chat completions (no I/O)."""

    name = "openai"

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
        out = {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
        }
        if api_key:  # local servers (Ollama, vLLM) may need none
            out["authorization"] = f"Bearer {api_key}"
        out.update(headers or {})
        return HttpRequest(
            method="POST",
            url=base_url.rstrip("/") + "/chat/completions",
            headers=out,
            json=build_body(model, request, stream=stream),
            stream=stream,
        )

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> WireReply:
        if not 200 <= status < 300:
            raise self.classify(status, headers, body, ctx)
        obj = _load_object(body, ctx, status)
        err = error_from_json(obj)
        if err is not None:
            raise classify_error(status, headers, err, ctx)
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ctx.error(errors.MalformedReply, "reply has no choices", status=status)
        choice = choices[0]
        message = _dict(choice.get("message"))
        usage = usage_from(obj.get("usage")) or _groq_usage(obj) or Usage()
        return WireReply(
            text=_text(message.get("content")),
            usage=usage,
            finish_reason=normalize_finish(choice.get("finish_reason")),
            model=str(obj.get("model") or ctx.model),
            raw=obj,
        )

    def classify(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> errors.ProviderError:
        return classify(status, headers, body, ctx)

    def stream_decoder(self, ctx: CallContext) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder(ctx)


class OpenAIStreamDecoder:
    """Decodes ``data: {chunk}`` ... ``data: [DONE]`` into ``StreamEvent``s.

    A clean EOF without ``[DONE]`` is sound once a ``finish_reason`` came on any choice: some
    compatible servers never send the terminator, and the answer (and the usage chunk, if one
    followed) is complete by then. Without a finish reason the stream was cut: MalformedReply.
    An unparsable ``data:`` event is skipped and recorded in ``skipped_events`` /
    ``first_bad_event``; more than three fail the stream. A parsable event that
    is an error object still raises the classified error.
    """

    __slots__ = (
        "_ctx",
        "_done",
        "_finished",
        "_groq_usage",
        "_parser",
        "_usage_seen",
        "first_bad_event",
        "skipped_events",
    )

    def __init__(self, ctx: CallContext) -> None:
        self._ctx = ctx
        self._parser = SSEParser()
        self._done = False
        self._finished = False  # a finish_reason came on some choice
        self._usage_seen = False
        self._groq_usage: Usage | None = None
        self.skipped_events = 0
        self.first_bad_event: str | None = None

    def feed(self, line: str) -> list[StreamEvent]:
        messages = self._parser.feed(line)
        return [e for m in messages for e in self._on_message(m)] if messages else []

    def close(self) -> list[StreamEvent]:
        events = [e for m in self._parser.close() for e in self._on_message(m)]
        if self._done:
            return events
        if not self._finished:
            raise self._ctx.error(
                errors.MalformedReply,
                "stream ended without a terminator ([DONE]) or a finish_reason"
                + skipped_summary(self),
                status=200,
            )
        self._done = True  # a clean EOF after the finish stands in for [DONE]
        return [*events, self._terminator()]

    def _terminator(self) -> StreamEvent:
        late = None if self._usage_seen else self._groq_usage
        return StreamEvent(usage=late, done=True)

    def _on_message(self, message: SSEMessage) -> list[StreamEvent]:
        if self._done:
            return []  # trailing bytes after [DONE] are ignored
        if message.data.strip() == "[DONE]":
            self._done = True
            return [self._terminator()]
        if message.event == "error":  # Groq may send `event: error` with any payload
            raise classify_error(200, {}, _event_error(message.data), self._ctx)
        try:
            parsed = json.loads(message.data)
        except ValueError:
            skip_bad_event(self, message.data, self._ctx)
            return []
        obj = _object(parsed, self._ctx, 200)
        err = error_from_json(obj)
        if err is not None:
            raise classify_error(200, {}, err, self._ctx)
        return [self._chunk_event(obj)]

    def _chunk_event(self, obj: dict[str, Any]) -> StreamEvent:
        text, finish = "", None
        choices = obj.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            choice = choices[0]
            delta = choice.get("delta")
            if isinstance(delta, dict):
                text = _text(delta.get("content"))
            finish = normalize_finish(choice.get("finish_reason"))
            if finish == "error":
                raise self._ctx.error(
                    errors.ServerError, "stream finished with an error", status=200
                )
        if isinstance(choices, list) and any(
            isinstance(c, dict) and normalize_finish(c.get("finish_reason")) for c in choices
        ):
            self._finished = True
        usage = usage_from(obj.get("usage"))
        if usage is not None:
            self._usage_seen = True
        groq = _groq_usage(obj)
        if groq is not None:
            self._groq_usage = groq
        return StreamEvent(
            text=text, raw=obj, usage=usage, finish_reason=finish, answering=_answering(obj)
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event_error(data: str) -> ErrorBody:
    try:
        obj = json.loads(data)
    except ValueError:
        return ErrorBody(message=data)
    found = error_from_json(obj)
    if found is not None:
        return found
    message = obj.get("message") if isinstance(obj, dict) else None
    return ErrorBody(message=str(message or data))


def _groq_usage(obj: dict[str, Any]) -> Usage | None:
    x_groq = obj.get("x_groq")
    return usage_from(x_groq.get("usage")) if isinstance(x_groq, dict) else None


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _load_object(body: bytes, ctx: CallContext, status: int) -> dict[str, Any]:
    """Parse a JSON reply; anything but an object (or Google's array) is malformed."""
    try:
        obj = json.loads(body)
    except ValueError:
        snippet = body[:120].decode("utf-8", "replace")
        raise ctx.error(
            errors.MalformedReply, f"unparsable JSON: {snippet!r}", status=status
        ) from None
    return _object(obj, ctx, status)


def _object(obj: Any, ctx: CallContext, status: int) -> dict[str, Any]:
    """Parsed JSON as the object it must be; Google's one-element error array is unwrapped."""
    if isinstance(obj, list) and obj and isinstance(obj[0], dict) and "error" in obj[0]:
        return obj[0]
    if not isinstance(obj, dict):
        raise ctx.error(errors.MalformedReply, "reply is not a JSON object", status=status)
    return obj


def _answering(chunk: dict[str, Any]) -> bool:
    """A chunk that carries a tool call or reasoning: the model is answering, not only text."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    delta = choices[0].get("delta")
    return isinstance(delta, dict) and bool(
        delta.get("tool_calls") or delta.get("reasoning") or delta.get("reasoning_content")
    )
