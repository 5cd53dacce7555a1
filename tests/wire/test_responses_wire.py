"""The native Responses wire: the body it sends, what a reply and a stream give the machine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmswitch._errors import MalformedReply, RateLimited
from llmswitch._types import ChatRequest, Message, Usage
from llmswitch._wire.base import CallContext
from llmswitch._wire.responses import RESPONSES

CTX = CallContext("openai", "gpt-4o-mini", "OPENAI_API_KEY")
ORIGINAL = {"model": "auto", "input": "hi", "store": True, "models": ["x"], "metadata": {"a": 1}}


def frames(*events: dict[str, Any]) -> list[str]:
    lines = []
    for e in events:
        lines += [f"event: {e['type']}", f"data: {json.dumps(e)}", ""]
    return lines


def test_the_body_is_the_clients_with_model_stream_and_store_set() -> None:
    request = ChatRequest(messages=(Message("user", "hi"),), responses_body=ORIGINAL)
    http = RESPONSES.build(
        base_url="https://api.openai.com/v1/", api_key="sk-x", model="gpt-4o-mini",
        request=request, stream=True,
    )  # fmt: skip
    assert http.url == "https://api.openai.com/v1/responses"
    assert http.json == {
        "model": "gpt-4o-mini", "input": "hi", "store": False, "stream": True,
        "metadata": {"a": 1},
    }  # fmt: skip
    assert ORIGINAL["model"] == "auto"  # the client's body is left as it was


def test_a_reply_gives_text_usage_and_finish() -> None:
    body = {
        "object": "response",
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hel"}]}],
        "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    }
    reply = RESPONSES.parse(200, {}, json.dumps(body).encode(), CTX)
    assert (reply.text, reply.usage, reply.finish_reason) == ("Hel", Usage(5, 2), "length")
    assert reply.raw == body
    with pytest.raises(RateLimited):
        RESPONSES.parse(429, {}, b'{"error": {"message": "slow down"}}', CTX)


def test_events_before_the_first_output_travel_with_it() -> None:
    decoder = RESPONSES.stream_decoder(CTX)
    created = {"type": "response.created", "response": {"status": "in_progress"}}
    added = {"type": "response.output_item.added"}
    delta = {"type": "response.output_text.delta", "delta": "Hi"}
    done = {
        "type": "response.completed",
        "response": {"status": "completed", "output": [], "usage": {"input_tokens": 3,
                                                                   "output_tokens": 1}},
    }  # fmt: skip
    out = [ev for line in frames(created, added) for ev in decoder.feed(line)]
    assert out == []  # nothing reached the caller: failover is still free
    (first,) = [ev for line in frames(delta) for ev in decoder.feed(line)]
    assert first.text == "Hi" and first.raw == {"events": [created, added, delta]}
    (last,) = [ev for line in frames(done) for ev in decoder.feed(line)]
    assert (last.done, last.usage, last.finish_reason) == (True, Usage(3, 1), "stop")
    assert decoder.feed("data: [DONE]") == [] and decoder.close() == []


def test_a_stream_that_ends_early_or_fails_is_an_error() -> None:
    decoder = RESPONSES.stream_decoder(CTX)
    for line in frames({"type": "response.output_text.delta", "delta": "x"}):
        decoder.feed(line)
    with pytest.raises(MalformedReply):
        decoder.close()
    failing = RESPONSES.stream_decoder(CTX)
    with pytest.raises(RateLimited):
        for line in frames({"type": "error", "code": "rate_limit_exceeded", "message": "429"}):
            failing.feed(line)
