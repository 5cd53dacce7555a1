"""Tools and response_format reach the provider untouched, and tool calls come back intact.

A tiny recording upstream stands in for an OpenAI-compatible provider added in llmswitch.toml
(the way a user adds a local vLLM or Ollama), so the test sees the exact body the gateway sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from llmswitch.server.run import BackgroundServer
from tests.server.conftest import GatewayFactory

TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
RESPONSE_FORMAT: Any = {"type": "json_object"}
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def _reply() -> dict[str, Any]:
    return {
        "id": "up-1",
        "object": "chat.completion",
        "created": 1,
        "model": "echo-1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [CALL]},
            }
        ],
        "usage": USAGE,
    }


async def _chunks() -> AsyncIterator[bytes]:
    base = {"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "echo-1"}
    opening = {"index": 0, **CALL, "function": {"name": "get_weather", "arguments": ""}}
    deltas = [
        {"role": "assistant", "tool_calls": [opening]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":"Paris"}'}}]},
    ]
    for delta in deltas:
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        yield b"data: " + json.dumps(body).encode() + b"\n\n"
    end = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    yield b"data: " + json.dumps(end).encode() + b"\n\n"
    yield b"data: " + json.dumps({**base, "choices": [], "usage": USAGE}).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


@pytest.fixture()
def upstream() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def completions(request: Request) -> Response:
        body = await request.json()
        seen.append(body)
        if body.get("stream"):
            return StreamingResponse(_chunks(), media_type="text/event-stream")
        return Response(json.dumps(_reply()), media_type="application/json")

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    with BackgroundServer(app) as server:
        yield server.base_url + "/v1", seen


def _echo_provider(base_url: str) -> str:
    return (
        f'\n[providers.echo]\nbase_url = "{base_url}"\nmodels = ["echo-1"]\n'
        'api_key = "echo-local-key-000"\npriority = 9\n'
    )


def test_tools_and_response_format_pass_through_and_tool_calls_return(
    make_gateway: GatewayFactory, upstream: tuple[str, list[dict[str, Any]]]
) -> None:
    base_url, seen = upstream
    gw = make_gateway(extra=_echo_provider(base_url))
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as c:
        raw = c.chat.completions.with_raw_response.create(
            model="echo-1",
            messages=[{"role": "user", "content": "weather in Paris?"}],
            tools=TOOLS,
            tool_choice="auto",
            response_format=RESPONSE_FORMAT,
        )
    reply = raw.parse()
    assert raw.headers["x-llmswitch-provider"] == "echo"
    assert seen[0]["tools"] == TOOLS
    assert seen[0]["tool_choice"] == "auto"
    assert seen[0]["response_format"] == RESPONSE_FORMAT
    calls = reply.choices[0].message.tool_calls
    assert calls is not None and calls[0].type == "function"
    call = calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "Paris"
    }
    assert reply.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_deltas_reach_the_client(
    make_gateway: GatewayFactory, upstream: tuple[str, list[dict[str, Any]]]
) -> None:
    base_url, seen = upstream
    gw = make_gateway(extra=_echo_provider(base_url))
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as c:
        chunks = list(
            c.chat.completions.create(
                model="echo-1",
                messages=[{"role": "user", "content": "weather?"}],
                tools=TOOLS,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert seen[0]["stream"] is True and seen[0]["tools"] == TOOLS
    args = "".join(
        (call.function.arguments or "") if call.function else ""
        for ch in chunks
        if ch.choices
        for call in ch.choices[0].delta.tool_calls or []
    )
    assert json.loads(args) == {"city": "Paris"}
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 17
