from __future__ import annotations

import json
from typing import Any

import pytest

from llmswitch import _errors as errors
from llmswitch._types import ChatRequest, Message, Usage
from llmswitch._wire import CallContext, StreamEvent
from llmswitch._wire.gemini import GeminiWire, finish_reason

CTX = CallContext(provider="gemini", model="gemini-3.6-flash", key_alias="main")
CANARY = "AIzaCANARY0123456789abcdef"
WIRE = GeminiWire()


def test_build_maps_messages_and_config() -> None:
    req = ChatRequest(
        messages=(
            Message("system", "You are terse."),
            Message("user", "Hi"),
            Message("assistant", "Hello."),
            Message("user", "Explain X"),
        ),
        temperature=0.7,
        max_tokens=1024,
        extra={
            "top_p": 0.95,
            "stop": "END",
            "response_format": {"type": "json_object"},
            "reasoning_effort": "low",
            "safetySettings": [{"category": "x"}],
        },
    )
    http = WIRE.build(
        base_url="https://generativelanguage.googleapis.com/",
        api_key=CANARY,
        model="models/gemini-3.6-flash",
        request=req,
        stream=False,
    )
    assert http.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-3.6-flash:generateContent"
    )
    assert http.headers["x-goog-api-key"] == CANARY
    assert "authorization" not in http.headers
    assert http.json == {
        "systemInstruction": {"parts": [{"text": "You are terse."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello."}]},
            {"role": "user", "parts": [{"text": "Explain X"}]},
        ],
        "generationConfig": {
            "temperature": 0.7,
            "maxOutputTokens": 1024,
            "stopSequences": ["END"],
            "topP": 0.95,
            "responseMimeType": "application/json",
        },
        "safetySettings": [{"category": "x"}],
    }
    assert CANARY not in repr(http)


def test_build_stream_url_and_versioned_base() -> None:
    req = ChatRequest(messages=(Message("user", "Hi"),))
    http = WIRE.build(
        base_url="http://127.0.0.1:9/v1beta", api_key="k", model="g", request=req, stream=True
    )
    assert http.url == "http://127.0.0.1:9/v1beta/models/g:streamGenerateContent?alt=sse"
    assert http.stream


def test_build_rejects_unsupported_part() -> None:
    req = ChatRequest(messages=(Message("user", [{"type": "input_audio", "input_audio": {}}]),))
    with pytest.raises(errors.ConfigError, match="input_audio"):
        WIRE.build(base_url="https://g", api_key="k", model="g", request=req, stream=False)


def reply(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "thinking...", "thought": True},
                        {"text": "Hel"},
                        {"text": "lo"},
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 4,
            "candidatesTokenCount": 9,
            "totalTokenCount": 20,
            "thoughtsTokenCount": 7,
        },
        "modelVersion": "gemini-3.6-flash",
        "responseId": "resp-1",
    }
    body.update(over)
    return body


def test_parse_text_usage_and_openai_shape() -> None:
    out = WIRE.parse(200, {}, json.dumps(reply()).encode(), CTX)
    assert out.text == "Hello"  # thought parts skipped
    assert out.usage == Usage(4, 16)  # thinking billed as output
    assert out.finish_reason == "stop"
    assert out.raw["object"] == "chat.completion"
    assert out.raw["choices"][0]["message"] == {"role": "assistant", "content": "Hello"}
    assert out.raw["usage"]["completion_tokens"] == 16


def test_parse_function_call_becomes_tool_call() -> None:
    parts = [{"functionCall": {"name": "get", "args": {"q": 1}}}]
    body = reply(candidates=[{"content": {"parts": parts}, "finishReason": "STOP"}])
    out = WIRE.parse(200, {}, json.dumps(body).encode(), CTX)
    assert out.finish_reason == "tool_calls"
    call = out.raw["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get", "arguments": '{"q": 1}'}


def test_parse_max_tokens_without_parts() -> None:
    body = reply(candidates=[{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}])
    out = WIRE.parse(200, {}, json.dumps(body).encode(), CTX)
    assert (out.text, out.finish_reason) == ("", "length")


def test_parse_blocked_prompt_is_content_filtered() -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {}}
    with pytest.raises(errors.ContentFiltered):
        WIRE.parse(200, {}, json.dumps(body).encode(), CTX)


def test_parse_malformed_and_error_status() -> None:
    with pytest.raises(errors.MalformedReply):
        WIRE.parse(200, {}, b"<html>", CTX)
    with pytest.raises(errors.ServerError):
        WIRE.parse(503, {}, b'{"error":{"code":503,"status":"UNAVAILABLE","message":"x"}}', CTX)


@pytest.mark.parametrize(
    ("native", "openai"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("OTHER", "other"),
        ("FINISH_REASON_UNSPECIFIED", None),
        (None, None),
    ],
)
def test_finish_reasons(native: str | None, openai: str | None) -> None:
    assert finish_reason(native) == openai


def stream(lines: list[str]) -> list[StreamEvent]:
    decoder = WIRE.stream_decoder(CTX)
    events = [e for line in lines for e in decoder.feed(line)]
    return events + decoder.close()


def data(obj: Any) -> list[str]:
    return [f"data: {json.dumps(obj)}", ""]


def part(text: str, finish: str | None = None, usage: dict[str, int] | None = None) -> Any:
    cand: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        cand["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [cand], "modelVersion": "gemini-3.6-flash"}
    if usage:
        out["usageMetadata"] = usage
    return out


def test_stream_ends_at_eof_after_finish_reason() -> None:
    final_usage = {"promptTokenCount": 3, "candidatesTokenCount": 2, "thoughtsTokenCount": 1}
    events = stream(
        [*data(part("Hel", usage={"promptTokenCount": 3})), *data(part("lo", "STOP", final_usage))]
    )
    assert "".join(e.text for e in events) == "Hello"
    assert events[-1].done and events[-1].finish_reason == "stop"
    assert events[-1].usage == Usage(3, 3)
    assert events[-1].raw is not None
    assert events[-1].raw["object"] == "chat.completion.chunk"
    assert events[-1].raw["choices"][0]["delta"]["content"] == "lo"


def test_stream_without_finish_reason_is_malformed() -> None:
    with pytest.raises(errors.MalformedReply, match="terminator"):
        stream(data(part("cut")))


def test_stream_without_finish_reason_names_a_skipped_event() -> None:
    with pytest.raises(errors.MalformedReply, match=r"finishReason.*1 unparsable.*'\{bad'"):
        stream([*data(part("cut")), "data: {bad", ""])


def bad(text: str) -> list[str]:
    return [f"data: {text}", ""]


def test_stream_skips_one_unparsable_event_mid_stream() -> None:
    decoder = WIRE.stream_decoder(CTX)
    assert decoder.skipped_events == 0 and decoder.first_bad_event is None
    lines = [*data(part("Hel")), *bad('{"candidates": [{"content'), *data(part("lo", "STOP"))]
    events = [e for line in lines for e in decoder.feed(line)] + decoder.close()
    assert "".join(e.text for e in events) == "Hello" and events[-1].done
    assert decoder.skipped_events == 1
    assert decoder.first_bad_event == '{"candidates": [{"content'


def test_stream_first_bad_event_is_redacted_and_truncated() -> None:
    decoder = WIRE.stream_decoder(CTX)
    key = "AIzaSyCANARY_0123456789"
    for line in [*bad(f'{{"k": "{key}" {"y" * 300}'), *data(part("x", "STOP"))]:
        decoder.feed(line)
    decoder.close()
    assert decoder.first_bad_event is not None and len(decoder.first_bad_event) == 200
    assert key not in decoder.first_bad_event and "AIza***" in decoder.first_bad_event


def test_stream_more_than_three_unparsable_events_are_malformed() -> None:
    three = stream([*bad("{a"), *bad("{b"), *data(part("x")), *bad("{c"), *data(part("", "STOP"))])
    assert three[-1].done
    decoder = WIRE.stream_decoder(CTX)
    with pytest.raises(errors.MalformedReply, match=r"4 unparsable.*'\{a'"):
        for line in [*bad("{a"), *bad("{b"), *bad("{c"), *bad("{d"), *data(part("x", "STOP"))]:
            decoder.feed(line)


def test_stream_bare_multiline_error_after_open() -> None:
    error = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    lines = [*data(part("a")), *json.dumps(error, indent=2).splitlines()]
    with pytest.raises(errors.RateLimited):
        stream(lines)


def test_stream_blocked_prompt() -> None:
    with pytest.raises(errors.ContentFiltered):
        stream(data({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}))
