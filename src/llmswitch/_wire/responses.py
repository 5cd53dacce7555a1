"""OpenAI's Responses API (``POST {base_url}/responses``), for providers that serve it natively.

The gateway's ``/v1/responses`` passes a request through to such a provider (OpenAI, Groq,
OpenRouter: ``catalog.ProviderSpec.responses_api``) instead of translating it to chat
completions, so what the provider does with it (its item ids, reasoning items, output it
adds) reaches the client unchanged. The request goes as the client sent it (``request.
responses_body``) with three changes: ``model`` is the candidate's own id, ``stream`` what the
call does, and ``store: false`` (the gateway is stateless: OpenAI would otherwise keep every
response, under a key the client never sees); llmswitch's own routing fields (``models``,
``provider``) stay here.

Replies are OpenAI's ``response`` object: ``parse`` reads its text, usage (``input_tokens`` /
``output_tokens``) and status for the ledger, and keeps the object whole in ``raw``. Errors are
OpenAI's error JSON, classified as on chat completions. A stream is ``event: <type>`` + ``data:
<json>`` frames; the decoder hands every event on in ``raw["events"]`` (the gateway writes them
as they came) but marks only real output as content, so failover stays free until the first
delta: the events before it (``response.created``, ``output_item.added``...) travel with it.
``response.completed`` / ``response.incomplete`` end the stream (OpenRouter adds ``[DONE]``);
``response.failed`` and ``error`` events are classified errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmswitch import _errors as errors
from llmswitch._types import ChatRequest, Usage
from llmswitch._wire.base import CallContext, HttpRequest, StreamEvent, WireReply
from llmswitch._wire.classify import ErrorBody, classify, classify_error, error_from_json
from llmswitch._wire.sse import SSEMessage, SSEParser, skip_bad_event, skipped_summary

ROUTING_FIELDS = ("models", "provider")
_CONTENT = (
    "response.output_text.delta",
    "response.function_call_arguments.delta",
    "response.reasoning_text.delta",
    "response.reasoning_summary_text.delta",
    "response.refusal.delta",
)
_ENDS = {"response.completed": "stop", "response.incomplete": "length"}


def usage_of(raw: Any) -> Usage | None:
    """A Responses ``usage`` object as ``Usage`` (None when absent or not one)."""
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("input_tokens"), raw.get("output_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt, completion)


def output_text(response: Mapping[str, Any]) -> str:
    """The text of every ``output_text`` part of a response's message items."""
    out = []
    for item in response.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    out.append(str(part.get("text", "")))
    return "".join(out)


def finish_of(response: Mapping[str, Any]) -> str | None:
    """``stop`` for a completed response, ``length`` / ``content_filter`` for an incomplete one."""
    if response.get("status") == "completed":
        calls = any(
            isinstance(i, dict) and i.get("type") == "function_call"
            for i in response.get("output") or []
        )
        return "tool_calls" if calls else "stop"
    if response.get("status") == "incomplete":
        details = response.get("incomplete_details") or {}
        reason = details.get("reason") if isinstance(details, dict) else None
        return "content_filter" if reason == "content_filter" else "length"
    return None


class ResponsesWire:
    """Builds, parses and classifies native Responses API calls (no I/O)."""

    name = "responses"

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
        body = {k: v for k, v in (request.responses_body or {}).items() if k not in ROUTING_FIELDS}
        body.update(model=model, stream=stream, store=False)
        out = {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
        }
        if api_key:
            out["authorization"] = f"Bearer {api_key}"
        out.update(headers or {})
        url = base_url.rstrip("/") + "/responses"
        return HttpRequest(method="POST", url=url, headers=out, json=body, stream=stream)

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> WireReply:
        if not 200 <= status < 300:
            raise self.classify(status, headers, body, ctx)
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
        if obj.get("object") != "response" or not isinstance(obj.get("output"), list):
            raise ctx.error(errors.MalformedReply, "reply is not a response object", status=status)
        return WireReply(
            text=output_text(obj),
            usage=usage_of(obj.get("usage")) or Usage(),
            finish_reason=finish_of(obj),
            model=str(obj.get("model") or ctx.model),
            raw=obj,
        )

    def classify(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> errors.ProviderError:
        return classify(status, headers, body, ctx)

    def stream_decoder(self, ctx: CallContext) -> ResponsesStreamDecoder:
        return ResponsesStreamDecoder(ctx)


class ResponsesStreamDecoder:
    """Decodes ``event:``/``data:`` Responses frames into ``StreamEvent``s (see the module)."""

    __slots__ = (
        "_ctx",
        "_done",
        "_held",
        "_opened",
        "_parser",
        "first_bad_event",
        "skipped_events",
    )

    def __init__(self, ctx: CallContext) -> None:
        self._ctx = ctx
        self._parser = SSEParser()
        self._done = False
        self._opened = False  # output reached the caller: every later event goes on at once
        self._held: list[dict[str, Any]] = []  # events before the first output
        self.skipped_events = 0
        self.first_bad_event: str | None = None

    def feed(self, line: str) -> list[StreamEvent]:
        messages = self._parser.feed(line)
        return [e for m in messages for e in self._on_message(m)] if messages else []

    def close(self) -> list[StreamEvent]:
        events = [e for m in self._parser.close() for e in self._on_message(m)]
        if not self._done:
            raise self._ctx.error(
                errors.MalformedReply,
                "stream ended before response.completed" + skipped_summary(self),
                status=200,
            )
        return events

    def _on_message(self, message: SSEMessage) -> list[StreamEvent]:
        if self._done:
            return []  # OpenRouter's trailing [DONE], or bytes after the end
        if message.data.strip() == "[DONE]":
            raise self._ctx.error(
                errors.MalformedReply, "stream ended before response.completed", status=200
            )
        try:
            obj = json.loads(message.data)
        except ValueError:
            skip_bad_event(self, message.data, self._ctx)
            return []
        if not isinstance(obj, dict):
            skip_bad_event(self, message.data, self._ctx)
            return []
        kind = str(obj.get("type") or message.event)
        if kind == "error" or kind == "response.failed":
            raise classify_error(200, {}, _error_of(obj), self._ctx)
        self._held.append(obj)
        end = _ENDS.get(kind)
        found = obj.get("response")
        response: dict[str, Any] = found if isinstance(found, dict) else {}
        delta = obj.get("delta") if kind == "response.output_text.delta" else ""
        if end is None and not self._opened and kind not in _CONTENT:
            return []  # held until the first output: failover is still free
        self._opened = True
        events, self._held = self._held, []
        if end is not None:
            self._done = True
        return [
            StreamEvent(
                text=str(delta or ""),
                raw={"events": events},
                usage=usage_of(response.get("usage")) if end else None,
                finish_reason=(finish_of(response) or end) if end else None,
                done=end is not None,
                answering=True,
            )
        ]


#: An ``error`` event's code as the HTTP status the same error has outside a stream, so a
#: rate limit met mid-stream is classified as one (a 200 alone would read as a server error).
_CODE_STATUS = {
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "context_length_exceeded": 400,
    "invalid_prompt": 400,
    "server_error": 500,
}


def _error_of(obj: dict[str, Any]) -> ErrorBody:
    """The error of an ``error`` event (its own code and message) or of ``response.failed``
    (the response's ``error``)."""
    response = obj.get("response")
    inner = response.get("error") if isinstance(response, dict) else None
    source = inner if isinstance(inner, dict) else obj
    code = str(source.get("code") or "")
    return ErrorBody(
        message=str(source.get("message") or "the response failed"),
        code=code,
        code_int=_CODE_STATUS.get(code),
    )


RESPONSES = ResponsesWire()
