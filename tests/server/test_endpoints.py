"""Every endpoint an app uses through the official SDK: models/{id}, the Responses API
(translated to chat, sync / async / streaming, with a failover in the middle), the legacy
completions 400, and OpenAI-shaped errors for every unknown path or method."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.server.conftest import Gateway

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture()
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as c:
        yield c


def _openai_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    return dict(error)


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/chat/completion", "/nothing/here", "/v1"])
def test_unknown_paths_are_openai_shaped_404s(gateway: Gateway, path: str) -> None:
    error = _openai_error(httpx.post(gateway.base_url + path, json={}), 404, "unknown_url")
    assert f"POST {path}" in error["message"] and "/v1/chat/completions" in error["message"]


def test_a_wrong_method_is_a_405_naming_the_right_one(gateway: Gateway) -> None:
    r = httpx.get(gateway.v1 + "/chat/completions")
    error = _openai_error(r, 405, "method_not_allowed")
    assert "POST" in error["message"] and r.headers["allow"] == "POST"
    _openai_error(httpx.delete(gateway.v1 + "/models"), 405, "method_not_allowed")


def test_models_retrieve_every_listed_name(gateway: Gateway, sdk: openai.OpenAI) -> None:
    for name in ("auto", "groq/openai/gpt-oss-120b", "gemini-3.6-flash"):
        assert sdk.models.retrieve(name).id == name
    with pytest.raises(openai.NotFoundError) as info:
        sdk.models.retrieve("no-such-model")
    assert info.value.code == "model_not_found"


def test_legacy_completions_is_a_clear_400(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.completions.create(model="auto", prompt="hi")
    assert "/v1/chat/completions" in info.value.message
    assert info.value.code == "unsupported_endpoint"


def test_responses_create_through_the_first_provider(gateway: Gateway, sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(model="auto", input="hello gateway")
    reply = raw.parse()
    assert reply.status == "completed" and reply.id.startswith("resp_")
    assert reply.output_text.startswith("Simulated reply from groq/openai/gpt-oss-120b to: hello")
    assert reply.model == "groq/openai/gpt-oss-120b"
    assert reply.usage is not None and reply.usage.output_tokens == 16
    assert raw.headers["x-llmswitch-provider"] == "groq"


async def test_async_responses_with_instructions_and_json_schema(gateway: Gateway) -> None:
    fmt = {
        "type": "json_schema",
        "name": "n",
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
    async with openai.AsyncOpenAI(base_url=gateway.v1, api_key="x", max_retries=0) as c:
        reply = await c.responses.create(
            model="openai/gpt-4o-mini", instructions="be terse", input="x", text={"format": fmt}
        )
    assert json.loads(reply.output_text) == {"n": 1}
    sent = gateway.sim.requests("openai")[-1]
    assert sent["status"] == 200


def test_responses_stream_fails_over_before_the_first_token(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    with sdk.responses.stream(model="auto", input="hello gateway") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.output_text and text.startswith("Simulated reply from gemini/")
    assert final.usage is not None and final.usage.output_tokens == 16


async def test_async_responses_stream_of_a_tool_call(gateway: Gateway) -> None:
    c = openai.AsyncOpenAI(base_url=gateway.v1, api_key="x", max_retries=0)
    async with (
        c,
        c.responses.stream(model="openai/gpt-4o-mini", input="weather?", tools=[WEATHER]) as stream,
    ):
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds
    (call,) = final.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "lorem ipsum dolor sit amet"}


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini"])
def test_a_tool_loop_through_responses(sdk: openai.OpenAI, model: str) -> None:
    first = sdk.responses.create(model=model, input="weather?", tools=[WEATHER])
    (call,) = first.output
    assert call.type == "function_call"
    second = sdk.responses.create(
        model=model,
        tools=[WEATHER],
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
    assert second.output_text.startswith("Simulated reply from")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"store": True}, "store"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"background": True}, "background"),
    ],
)
def test_what_chat_cannot_carry_is_a_400_naming_it(
    sdk: openai.OpenAI, extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.responses.create(model="auto", input="x", extra_body=extra)
    assert info.value.param == param
