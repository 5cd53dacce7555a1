"""Chat fidelity through the official SDK: tool calls, JSON mode, json_schema, stop and n."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from llmswitch.simulator.answers import Shape, compose, schema_instance
from llmswitch.testing import SimulatorHandle

from .conftest import HELLO, MODELS, sdk

COMPAT = ["groq", "openrouter", "together", "openai", "gemini"]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "address": {"$ref": "#/$defs/address"},
        "kind": {"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]},
    },
    "required": ["name", "age"],
    "$defs": {"address": {"type": "object", "properties": {"zip": {"type": "string"}}}},
}


def _create(sim: SimulatorHandle, provider: str, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", HELLO)
    return sdk(sim, provider).chat.completions.create(model=MODELS[provider], **kwargs)


@pytest.mark.parametrize("provider", COMPAT)
def test_tools_answer_with_a_call_whose_arguments_fit_the_schema(
    sim: SimulatorHandle, provider: str
) -> None:
    reply = _create(sim, provider, tools=[WEATHER, TIME])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {
        "city": "lorem ipsum dolor sit amet",
        "unit": "celsius",
        "days": 1,
    }
    assert call.id.startswith("call_")
    assert reply.usage.completion_tokens == -(-len("get_weather" + call.function.arguments) // 4)


def test_the_tool_named_in_the_question_or_by_tool_choice_is_called(sim: SimulatorHandle) -> None:
    ask = [{"role": "user", "content": "use get_time please"}]
    assert (
        _create(sim, "openai", messages=ask, tools=[WEATHER, TIME])
        .choices[0]
        .message.tool_calls[0]
        .function.name
        == "get_time"
    )
    named = {"type": "function", "function": {"name": "get_time"}}
    reply = _create(sim, "openai", tools=[WEATHER, TIME], tool_choice=named)
    assert reply.choices[0].message.tool_calls[0].function.name == "get_time"
    text = _create(sim, "openai", tools=[WEATHER], tool_choice="none").choices[0]
    assert text.finish_reason == "stop" and text.message.content and not text.message.tool_calls


@pytest.mark.parametrize("provider", ["openai", "together", "gemini"])
def test_an_agent_loop_ends_in_text_after_the_tool_result(
    sim: SimulatorHandle, provider: str
) -> None:
    first = _create(sim, provider, tools=[WEATHER]).choices[0].message
    call = first.tool_calls[0]
    history = [
        *HELLO,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
    ]
    final = _create(sim, provider, messages=history, tools=[WEATHER]).choices[0]
    assert final.finish_reason in ("stop", "eos")
    assert final.message.content.startswith("Simulated reply from")
    required = _create(sim, provider, messages=history, tools=[WEATHER], tool_choice="required")
    assert required.choices[0].message.tool_calls


def test_a_tool_message_without_its_call_is_openais_400(sim: SimulatorHandle) -> None:
    orphan = [*HELLO, {"role": "tool", "tool_call_id": "call_x", "content": "{}"}]
    with pytest.raises(openai.BadRequestError) as info:
        _create(sim, "openai", messages=orphan)
    assert "must be a response to a preceeding message with 'tool_calls'" in str(info.value)
    with pytest.raises(openai.BadRequestError, match="only allowed when 'tools'"):
        _create(sim, "openai", tool_choice="required")


@pytest.mark.parametrize("provider", COMPAT)
def test_tool_calls_stream_as_deltas_the_sdk_accumulates(
    sim: SimulatorHandle, provider: str
) -> None:
    chunks = list(_create(sim, provider, tools=[WEATHER], stream=True))
    deltas = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert deltas[0].id and deltas[0].function.name == "get_weather"
    args = "".join(d.function.arguments or "" for d in deltas)
    assert json.loads(args)["city"]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "tool_calls"


@pytest.mark.parametrize("provider", COMPAT)
def test_json_object_mode_answers_valid_json(sim: SimulatorHandle, provider: str) -> None:
    reply = _create(sim, provider, response_format={"type": "json_object"})
    body = json.loads(reply.choices[0].message.content)
    assert body["reply"].startswith("Simulated reply from")
    assert reply.usage.completion_tokens == -(-len(reply.choices[0].message.content) // 4)


@pytest.mark.parametrize("provider", COMPAT)
def test_json_schema_answers_an_instance_of_the_schema(sim: SimulatorHandle, provider: str) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}
    value = json.loads(_create(sim, provider, response_format=fmt).choices[0].message.content)
    assert value == {
        "name": "lorem ipsum dolor sit amet",
        "age": 0,
        "tags": ["lorem ipsum dolor sit amet"] * 2,
        "address": {"zip": "lorem ipsum dolor sit amet"},
        "kind": "a",
    }
    streamed = _create(sim, provider, response_format=fmt, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert json.loads(text) == value


def test_json_cut_at_max_tokens_is_invalid_and_says_length(sim: SimulatorHandle) -> None:
    reply = _create(sim, "openai", response_format={"type": "json_object"}, max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == '{"reply": "S'  # 4 characters a token
    assert reply.usage.completion_tokens == 3


@pytest.mark.parametrize("provider", COMPAT)
def test_stop_cuts_the_answer_before_the_stop_string(sim: SimulatorHandle, provider: str) -> None:
    reply = _create(sim, provider, stop=["to:"])
    choice = reply.choices[0]
    assert choice.message.content == f"Simulated reply from {provider}/{MODELS[provider]} "
    assert choice.finish_reason == "stop"
    assert reply.usage.completion_tokens == 4
    streamed = _create(sim, provider, stop="from", stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == (
        "Simulated reply "
    )


def test_more_than_four_stop_strings_is_openais_400(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.BadRequestError, match="array too long"):
        _create(sim, "openai", stop=["a", "b", "c", "d", "e"])


@pytest.mark.parametrize("provider", ["openai", "together"])
def test_n_returns_n_choices_and_usage_counts_them_all(sim: SimulatorHandle, provider: str) -> None:
    reply = _create(sim, provider, n=3)
    assert [c.index for c in reply.choices] == [0, 1, 2]
    texts = [c.message.content for c in reply.choices]
    assert texts[0].startswith("Simulated reply from") and texts[1].startswith("Simulated reply-2")
    assert reply.usage.completion_tokens == 48
    chunks = list(_create(sim, provider, n=2, stream=True))
    assert {c.choices[0].index for c in chunks if c.choices} == {0, 1}


def test_n_refusals_follow_each_provider(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.BadRequestError, match="'n' : number must be at most 1"):
        _create(sim, "groq", n=2)
    with pytest.raises(openai.BadRequestError) as info:
        _create(sim, "gemini", n=2)  # gemini-3.6-flash; Google's envelope in a JSON array
    assert "Multiple candidates is not enabled" in json.dumps(info.value.body)
    assert len(_create(sim, "openrouter", n=2).choices) == 1  # no `n` in OpenRouter's schema
    two = sdk(sim, "gemini").chat.completions.create(model="gemini-2.5-pro", messages=HELLO, n=2)
    assert len(two.choices) == 2


def test_schema_instances_cover_the_json_schema_keywords() -> None:
    assert schema_instance({"type": ["null", "number"], "minimum": 2}) == 2.0
    assert schema_instance({"const": 7}) == 7
    assert schema_instance({"type": "array", "prefixItems": [{"type": "boolean"}]}) == [True]
    assert schema_instance({"type": "STRING", "maxLength": 3}) == "lor"  # Gemini's OpenAPI case
    assert schema_instance({"type": "string", "minLength": 30}).startswith("lorem")


def test_compose_is_pure_and_deterministic() -> None:
    words = ["Simulated", "reply", "from", "x", "to:", "hi", "..."]
    shape = Shape(n=2, stop=["to:"])
    first = compose(words, shape, cap=None, lead="", last_user="hi", call_id="c")
    assert [a.text for a in first] == ["Simulated reply from x ", "Simulated reply-2 from x "]
    assert first == compose(words, shape, cap=None, lead="", last_user="hi", call_id="c")
