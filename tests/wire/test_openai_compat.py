from __future__ import annotations

import json
from typing import Any

import pytest

from llmswitch import _errors as errors
from llmswitch._types import ChatRequest, Message, Usage
from llmswitch._wire import CallContext, StreamEvent, wire_for
from llmswitch._wire.openai_compat import OpenAICompatWire

CTX = CallContext(provider="groq", model="openai/gpt-oss-20b", key_alias="main")
CANARY = "gsk_CANARY_9f8e7d6c5b4a"
WIRE = OpenAICompatWire()


def request(**extra: Any) -> ChatRequest:
    return ChatRequest(
        messages=(Message("system", "Be terse."), Message("user", "Hi")),
        temperature=0.2,
        max_tokens=64,
        extra=extra,
    )


def test_build_non_stream() -> None:
    http = WIRE.build(
        base_url="https://api.groq.com/openai/v1/",
        api_key=CANARY,
        model="openai/gpt-oss-20b",
        request=request(top_p=0.9, tools=[{"type": "function"}]),
        stream=False,
        headers={"X-Title": "app"},
    )
    assert http.method == "POST"
    assert http.url == "https://api.groq.com/openai/v1/chat/completions"
    assert http.headers["authorization"] == f"Bearer {CANARY}"
    assert http.headers["X-Title"] == "app"
    assert http.json == {
        "top_p": 0.9,
        "tools": [{"type": "function"}],
        "model": "openai/gpt-oss-20b",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.2,
        "max_tokens": 64,
        "stream": False,
    }
    assert not http.stream


def test_build_stream_asks_for_usage_and_keeps_stream_options() -> None:
    http = WIRE.build(
        base_url="http://localhost:11434/v1",
        api_key="",
        model="llama3",
        request=request(stream_options={"include_obfuscation": False}, max_completion_tokens=9),
        stream=True,
    )
    assert http.json is not None
    assert http.json["stream"] is True
    assert http.json["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    assert "max_tokens" not in http.json  # max_completion_tokens given: never send both
    assert "authorization" not in http.headers  # keyless local server
    assert http.headers["accept"] == "text/event-stream"


def test_repr_masks_the_key() -> None:
    http = WIRE.build(
        base_url="https://x/v1", api_key=CANARY, model="m", request=request(), stream=False
    )
    assert CANARY not in repr(http)
    assert "[secure]" in repr(http)


def completion(**over: Any) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "openai/gpt-oss-20b",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello."},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 3,
            "total_tokens": 15,
            "queue_time": 0.01,
        },
    }
    body.update(over)
    return json.dumps(body).encode()


def test_parse_success() -> None:
    reply = WIRE.parse(200, {}, completion(), CTX)
    assert (reply.text, reply.usage, reply.finish_reason) == ("Hello.", Usage(12, 3), "stop")
    assert reply.model == "openai/gpt-oss-20b"
    assert reply.raw["id"] == "chatcmpl-1"


def test_parse_together_eos_and_groq_fallback_usage() -> None:
    body = completion(
        usage=None, x_groq={"id": "req_1", "usage": {"prompt_tokens": 5, "completion_tokens": 7}}
    )
    raw = json.loads(body)
    raw["choices"][0]["finish_reason"] = "eos"
    reply = WIRE.parse(200, {}, json.dumps(raw).encode(), CTX)
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(5, 7)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"object": "chat.completion", "choices": []}'],
    ids=["garbage", "array", "no-choices"],
)
def test_parse_malformed(body: bytes) -> None:
    with pytest.raises(errors.MalformedReply):
        WIRE.parse(200, {}, body, CTX)


def test_parse_non_2xx_raises_classified() -> None:
    body = b'{"error":{"message":"Invalid API Key","code":"invalid_api_key"}}'
    with pytest.raises(errors.AuthFailed):
        WIRE.parse(401, {}, body, CTX)


def feed_all(lines: list[str]) -> list[StreamEvent]:
    decoder = WIRE.stream_decoder(CTX)
    events = [e for line in lines for e in decoder.feed(line)]
    return events + decoder.close()


def sse(*objs: Any) -> list[str]:
    out: list[str] = []
    for obj in objs:
        out += [f"data: {obj if isinstance(obj, str) else json.dumps(obj)}", ""]
    return out


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def test_stream_openai_include_usage() -> None:
    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    events = feed_all(
        sse(
            chunk("He"),
            chunk("llo"),
            chunk(finish="stop"),
            {"object": "chat.completion.chunk", "choices": [], "usage": usage},
            "[DONE]",
        )
    )
    assert "".join(e.text for e in events) == "Hello"
    assert [e.finish_reason for e in events if e.finish_reason] == ["stop"]
    assert [e.usage for e in events if e.usage] == [Usage(4, 2)]
    assert events[-1].done and events[0].raw is not None


def test_stream_groq_x_groq_usage_counts_without_usage_chunk() -> None:
    x_groq = {"id": "req_1", "usage": {"prompt_tokens": 9, "completion_tokens": 1}}
    events = feed_all(sse(chunk("x"), chunk(finish="stop", x_groq=x_groq), "[DONE]"))
    assert events[-1].done
    assert events[-1].usage == Usage(9, 1)


def test_stream_together_usage_on_finish_chunk_and_eos() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 5}
    events = feed_all(sse(chunk("a"), chunk("", finish="eos", usage=usage), "[DONE]"))
    assert events[1].finish_reason == "stop"
    assert events[1].usage == Usage(3, 5)
    assert events[-1].usage is None  # no x_groq fallback when standard usage came


def test_stream_openrouter_comments_skipped() -> None:
    lines = [": OPENROUTER PROCESSING", "", *sse(chunk("hi"), "[DONE]")]
    events = feed_all(lines)
    assert [e.text for e in events] == ["hi", ""]


def test_stream_openrouter_midstream_error() -> None:
    bad = {
        "id": "gen-abc123",
        "object": "chat.completion.chunk",
        "model": "openai/gpt-4o",
        "provider": "OpenAI",
        "error": {
            "code": 429,
            "message": "Rate limit exceeded",
            "metadata": {"error_type": "rate_limit_exceeded"},
        },
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    decoder = WIRE.stream_decoder(CTX)
    decoder.feed(f"data: {json.dumps(chunk('partial'))}")
    decoder.feed("")
    decoder.feed(f"data: {json.dumps(bad)}")
    with pytest.raises(errors.RateLimited):
        decoder.feed("")


def test_stream_finish_reason_error_without_object() -> None:
    with pytest.raises(errors.ServerError):
        feed_all(sse(chunk(finish="error")))


def test_stream_event_error_line() -> None:
    decoder = WIRE.stream_decoder(CTX)
    decoder.feed("event: error")
    decoder.feed('data: {"error": {"message": "overloaded", "type": "internal_server_error"}}')
    with pytest.raises(errors.ServerError, match="overloaded"):
        decoder.feed("")


def test_stream_without_done_is_malformed() -> None:
    decoder = WIRE.stream_decoder(CTX)
    for line in sse(chunk("cut")):
        decoder.feed(line)
    with pytest.raises(errors.MalformedReply, match="terminator"):
        decoder.close()


def test_stream_eof_after_finish_reason_without_done_is_sound() -> None:
    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    usage_chunk = {"object": "chat.completion.chunk", "choices": [], "usage": usage}
    events = feed_all(sse(chunk("He"), chunk("llo"), chunk(finish="stop"), usage_chunk))
    assert "".join(e.text for e in events) == "Hello"
    assert [e.finish_reason for e in events if e.finish_reason] == ["stop"]
    assert [e.usage for e in events if e.usage] == [Usage(4, 2)]
    assert events[-1].done


def test_stream_eof_after_finish_keeps_the_groq_usage_fallback() -> None:
    x_groq = {"id": "req_1", "usage": {"prompt_tokens": 9, "completion_tokens": 1}}
    events = feed_all(sse(chunk("x"), chunk(finish="stop", x_groq=x_groq)))
    assert events[-1].done and events[-1].usage == Usage(9, 1)


def test_stream_finish_reason_on_any_choice_ends_the_stream_at_eof() -> None:
    two = chunk("a")
    two["choices"].append({"index": 1, "delta": {}, "finish_reason": "length"})
    assert feed_all(sse(two))[-1].done


def test_stream_unparsable_data_line_alone_is_malformed() -> None:
    decoder = WIRE.stream_decoder(CTX)
    decoder.feed("data: {not json")
    assert decoder.feed("") == []  # skipped, not fatal by itself
    with pytest.raises(errors.MalformedReply, match=r"1 unparsable event.*'\{not json'"):
        decoder.close()


def test_fresh_decoder_has_skipped_nothing() -> None:
    decoder = WIRE.stream_decoder(CTX)
    assert decoder.skipped_events == 0 and decoder.first_bad_event is None


def test_stream_skips_one_unparsable_event_mid_stream() -> None:
    decoder = WIRE.stream_decoder(CTX)
    lines = sse(chunk("He"), "{not json", chunk("llo"), chunk(finish="stop"), "[DONE]")
    events = [e for line in lines for e in decoder.feed(line)] + decoder.close()
    assert "".join(e.text for e in events) == "Hello" and events[-1].done
    assert decoder.skipped_events == 1 and decoder.first_bad_event == "{not json"


def test_stream_first_bad_event_is_redacted_and_truncated() -> None:
    decoder = WIRE.stream_decoder(CTX)
    bad = f'{{"key": "{CANARY}", "pad": "{"x" * 400}'
    for line in sse(bad, "{second", chunk(finish="stop")):
        decoder.feed(line)
    decoder.close()
    assert decoder.skipped_events == 2
    assert decoder.first_bad_event is not None
    assert CANARY not in decoder.first_bad_event and "gsk_***" in decoder.first_bad_event
    assert len(decoder.first_bad_event) == 200


def test_stream_three_unparsable_events_are_skipped_four_are_malformed() -> None:
    three = feed_all(sse("{a", chunk("x"), "{b", "{c", chunk(finish="stop"), "[DONE]"))
    assert "".join(e.text for e in three) == "x"
    decoder = WIRE.stream_decoder(CTX)
    with pytest.raises(errors.MalformedReply, match=r"4 unparsable event.*'\{a'"):
        for line in sse("{a", chunk("x"), "{b", "{c", "{d", chunk(finish="stop"), "[DONE]"):
            decoder.feed(line)
    assert decoder.skipped_events == 4


def test_stream_with_a_skipped_event_and_no_end_names_it() -> None:
    with pytest.raises(errors.MalformedReply, match=r"terminator.*1 unparsable.*'\{oops'"):
        feed_all(sse(chunk("cut"), "{oops"))


def test_stream_parsable_error_object_is_not_skipped() -> None:
    bad = {"error": {"message": "overloaded", "type": "internal_server_error", "code": 500}}
    decoder = WIRE.stream_decoder(CTX)
    with pytest.raises(errors.ServerError):
        for line in sse(chunk("a"), bad, chunk(finish="stop"), "[DONE]"):
            decoder.feed(line)
    assert decoder.skipped_events == 0


def test_stream_non_object_json_is_still_malformed() -> None:
    with pytest.raises(errors.MalformedReply, match="not a JSON object"):
        feed_all(sse("42", chunk(finish="stop"), "[DONE]"))


def test_stream_done_without_trailing_blank_line() -> None:
    decoder = WIRE.stream_decoder(CTX)
    decoder.feed("data: [DONE]")
    assert decoder.close()[-1].done


def test_wire_for() -> None:
    assert wire_for("openai").name == "openai"
    assert wire_for("gemini").name == "gemini"
    with pytest.raises(errors.ConfigError, match="'gemini', 'openai'"):
        wire_for("anthropic")
