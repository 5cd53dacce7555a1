"""Gemini's native wire, complete: tool_choice -> toolConfig, json_schema -> responseJsonSchema,
n -> candidateCount with every candidate a choice, functionResponse.name from the tool call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmswitch._types import ChatRequest, Message
from llmswitch._wire import CallContext
from llmswitch._wire.gemini import GeminiWire
from llmswitch._wire.gemini_request import build_body

CTX = CallContext(provider="gemini", model="gemini-2.5-pro", key_alias="main")
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
HI = (Message("user", "hi"),)


def body(**extra: Any) -> dict[str, Any]:
    return build_body(ChatRequest(messages=HI, extra=extra))


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_becomes_tool_config(choice: Any, config: dict[str, Any]) -> None:
    out = body(tools=[TOOL], tool_choice=choice)
    assert out["toolConfig"] == {"functionCallingConfig": config}
    assert out["tools"] == [{"functionDeclarations": [TOOL["function"]]}]


def test_a_native_tool_config_wins() -> None:
    native = {"functionCallingConfig": {"mode": "VALIDATED"}}
    assert body(tools=[TOOL], tool_choice="required", toolConfig=native)["toolConfig"] == native


def test_json_schema_becomes_response_json_schema() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    config = body(response_format=fmt)["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": schema}
    assert body(response_format={"type": "json_object"})["generationConfig"] == {
        "responseMimeType": "application/json"
    }


def test_a_tool_result_is_named_after_its_call() -> None:
    call = {
        "id": "call_7",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    messages = (
        Message("user", "weather?"),
        Message("assistant", None, tool_calls=[call]),
        Message("tool", '{"t": 21}', tool_call_id="call_7"),
    )
    contents = build_body(ChatRequest(messages=messages))["contents"]
    assert contents[1]["parts"] == [{"functionCall": {"name": "get_weather", "args": {}}}]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"content": '{"t": 21}'}}}
    ]


def test_n_is_candidate_count_and_every_candidate_a_choice() -> None:
    assert body(n=2)["generationConfig"] == {"candidateCount": 2}
    reply = {
        "candidates": [
            {"content": {"parts": [{"text": "one"}]}, "finishReason": "STOP", "index": 0},
            {"content": {"parts": [{"text": "two"}]}, "finishReason": "MAX_TOKENS", "index": 1},
        ],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 10},
    }
    parsed = GeminiWire().parse(200, {}, json.dumps(reply).encode(), CTX)
    assert parsed.text == "one"
    assert parsed.raw is not None
    choices = parsed.raw["choices"]
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in choices] == [
        (0, "one", "stop"),
        (1, "two", "length"),
    ]
    assert parsed.usage.completion_tokens == 10  # both candidates
