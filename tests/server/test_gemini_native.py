"""Failing over to Gemini's native API changes nothing the app sees: tool_choice, json_schema,
n and tool results survive, through the official SDK (sync, async, streaming). The simulator
refuses a functionResponse under the wrong name, so a regression is a 400 here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.server.conftest import Gateway

GEMINI = "gemini/gemini-3.6-flash"
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME: Any = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
ASK: Any = [{"role": "user", "content": "weather?"}]


@pytest.fixture()
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as c:
        yield c


def test_a_tool_loop_on_gemini_sends_the_result_under_the_functions_name(
    sdk: openai.OpenAI,
) -> None:
    first = sdk.chat.completions.create(model=GEMINI, messages=ASK, tools=[WEATHER])
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = message.tool_calls or []
    history: Any = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"t": 21}'},
    ]
    final = sdk.chat.completions.create(model=GEMINI, messages=history, tools=[WEATHER])
    assert (final.choices[0].message.content or "").startswith("Simulated reply from gemini")


def test_failover_to_gemini_keeps_a_named_tool_choice(gateway: Gateway, sdk: openai.OpenAI) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    named: Any = {"type": "function", "function": {"name": "get_time"}}
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=ASK, tools=[WEATHER, TIME], tool_choice=named
    )
    assert raw.headers["x-llmswitch-attempts"].startswith("groq:server_error,gemini:ok")
    calls = raw.parse().choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_time"]


async def test_async_json_schema_reaches_gemini_as_its_schema(gateway: Gateway) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    fmt: Any = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    async with openai.AsyncOpenAI(base_url=gateway.v1, api_key="x", max_retries=0) as c:
        reply = await c.chat.completions.create(model=GEMINI, messages=ASK, response_format=fmt)
        stream = await c.chat.completions.create(
            model=GEMINI, messages=ASK, response_format=fmt, stream=True
        )
        text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
    assert json.loads(reply.choices[0].message.content or "") == {"n": 1}
    assert json.loads(text) == {"n": 1}


def test_n_returns_every_gemini_candidate_with_usage_to_match(sdk: openai.OpenAI) -> None:
    reply = sdk.chat.completions.create(model="gemini/gemini-2.5-pro", messages=ASK, n=2)
    assert [c.index for c in reply.choices] == [0, 1]
    assert (reply.choices[1].message.content or "").startswith("Simulated reply-2 from gemini")
    assert reply.usage is not None and reply.usage.completion_tokens == 32


def test_responses_tool_loop_through_gemini(sdk: openai.OpenAI) -> None:
    tool: Any = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    first = sdk.responses.create(model=GEMINI, input="weather?", tools=[tool])
    (call,) = first.output
    assert call.type == "function_call"
    second = sdk.responses.create(
        model=GEMINI,
        tools=[tool],
        input=[
            {"role": "user", "content": "weather?"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "21C"},
        ],
    )
    assert second.output_text.startswith("Simulated reply from gemini")
