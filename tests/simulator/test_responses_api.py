"""The Responses API where a provider serves it, through the SDK's create and stream helpers."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import openai
import pytest

from llmswitch.testing import SimulatorHandle

from .conftest import KEYS, MODELS, sdk

SERVED = ["openai", "groq", "openrouter"]
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.mark.parametrize("provider", SERVED)
def test_create_answers_text_with_usage(sim: SimulatorHandle, provider: str) -> None:
    reply = sdk(sim, provider).responses.create(model=MODELS[provider], input="Hello there")
    assert reply.status == "completed" and reply.id.startswith("resp_")
    assert reply.output_text.startswith(f"Simulated reply from {provider}/")
    assert reply.usage is not None and reply.usage.output_tokens == 16


@pytest.mark.parametrize("provider", SERVED)
def test_stream_helper_sees_every_event_in_order(sim: SimulatorHandle, provider: str) -> None:
    client = sdk(sim, provider)
    with client.responses.stream(model=MODELS[provider], input="Hello there") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.output_text and len(text.split()) == 16


def test_openai_stream_has_no_done_openrouter_has(sim: SimulatorHandle) -> None:
    for provider, done in (("openai", False), ("openrouter", True)):
        r = httpx.post(
            sim.provider_base_url(provider) + "/responses",
            json={"model": MODELS[provider], "input": "hi", "stream": True},
            headers={"authorization": f"Bearer {KEYS[provider]}"},
        )
        assert r.text.startswith("event: response.created\ndata: ")
        assert r.text.rstrip().endswith("data: [DONE]") is done


def test_function_tools_and_the_call_output_loop(sim: SimulatorHandle) -> None:
    client = sdk(sim, "openai")
    first = client.responses.create(model="gpt-4o-mini", input="weather?", tools=[WEATHER])
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "lorem ipsum dolor sit amet"}
    second = client.responses.create(
        model="gpt-4o-mini",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "21C"}],
        tools=[WEATHER],
    )
    assert second.output_text.startswith("Simulated reply")
    assert second.usage is not None and second.usage.input_tokens > first.usage.input_tokens


def test_json_schema_text_format(sim: SimulatorHandle) -> None:
    fmt = {
        "type": "json_schema",
        "name": "n",
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
    reply = sdk(sim, "openai").responses.create(
        model="gpt-4o-mini", input="x", text={"format": fmt}
    )
    assert json.loads(reply.output_text) == {"n": 1}


def test_max_output_tokens_makes_it_incomplete(
    sim_with: Callable[[object], SimulatorHandle],
) -> None:
    sim = sim_with({"simulator": {"reply_tokens": 40}})
    reply = sdk(sim, "openai").responses.create(
        model="gpt-4o-mini", input="x", max_output_tokens=16
    )
    assert reply.status == "incomplete"
    assert reply.incomplete_details is not None
    assert reply.incomplete_details.reason == "max_output_tokens"
    assert reply.usage is not None and reply.usage.output_tokens == 16


def test_state_rules_per_provider(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.BadRequestError, match="not found"):
        sdk(sim, "openai").responses.create(
            model="gpt-4o-mini", input="x", previous_response_id="resp_nope"
        )
    for provider in ("openrouter", "groq"):
        with pytest.raises(openai.BadRequestError, match="stateless"):
            sdk(sim, provider).responses.create(model=MODELS[provider], input="x", store=True)


@pytest.mark.parametrize("provider", ["together", "gemini"])
def test_providers_without_responses_answer_404(sim: SimulatorHandle, provider: str) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk(sim, provider).responses.create(model=MODELS[provider], input="x")
