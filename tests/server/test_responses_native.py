"""/v1/responses natively where the provider serves the Responses API (OpenAI, Groq,
OpenRouter), translated to chat completions elsewhere (Gemini, Together): the SDK's
``responses.create`` and ``responses.stream`` through both kinds, with a failover from a native
provider to a translated one. A recording transport shows which API each attempt spoke."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.server.conftest import Gateway, GatewayFactory
from tests.server.test_gemini_images import Recording

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture()
def recorder() -> Recording:
    return Recording()


@pytest.fixture()
def gw(make_gateway: GatewayFactory, recorder: Recording) -> Gateway:
    return make_gateway(async_transport=recorder)


def spoke(recorder: Recording) -> list[str]:
    """Each attempt's API, in order: ``responses``, ``chat`` or ``gemini``."""
    out = []
    for r in recorder.sent:
        if r.url.endswith("/responses"):
            out.append("responses")
        elif r.url.endswith("/chat/completions"):
            out.append("chat")
        else:
            out.append("gemini")
    return out


def test_a_native_provider_gets_the_request_as_sent(gw: Gateway, recorder: Recording) -> None:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.responses.with_raw_response.create(
            model="openai/gpt-4o-mini",
            input="hello",
            instructions="be brief",
            metadata={"trace": "t1"},
            max_output_tokens=64,
        )
    reply = raw.parse()
    assert spoke(recorder) == ["responses"]
    sent = recorder.sent[0].json or {}
    assert sent["model"] == "gpt-4o-mini" and sent["store"] is False
    assert (sent["instructions"], sent["metadata"], sent["max_output_tokens"]) == (
        "be brief",
        {"trace": "t1"},
        64,
    )
    assert reply.model == "openai/gpt-4o-mini" and reply.status == "completed"
    assert reply.output_text
    assert reply.usage is not None and (reply.usage.model_extra or {})["cost"] > 0
    assert float(raw.headers["x-llmswitch-cost-usd"]) == pytest.approx(
        (reply.usage.model_extra or {})["cost"]
    )


def test_a_provider_without_it_gets_chat_completions(gw: Gateway, recorder: Recording) -> None:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        reply = sdk.responses.create(model="together/openai/gpt-oss-120b", input="hello")
    assert spoke(recorder) == ["chat"]
    assert reply.output_text and reply.model.startswith("together/")


def test_a_native_tool_call_comes_back_as_the_provider_made_it(
    gw: Gateway, recorder: Recording
) -> None:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        reply = sdk.responses.create(
            model="groq/openai/gpt-oss-120b",
            input="weather in Paris?",
            tools=[WEATHER],
            tool_choice="required",
        )
    assert spoke(recorder) == ["responses"]
    (call,) = [item for item in reply.output if item.type == "function_call"]
    assert call.name == "get_weather" and call.call_id


def test_failover_from_a_native_provider_to_a_translated_one(
    gw: Gateway, recorder: Recording
) -> None:
    gw.sim.set_fault("groq", {"kind": "status", "status": 503})
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.responses.with_raw_response.create(model="auto", input="hello")
    assert raw.headers["x-llmswitch-attempts"] == "groq:server_error,gemini:ok"
    assert spoke(recorder) == ["responses", "gemini"]
    reply = raw.parse()
    assert reply.output_text and reply.model.startswith("gemini/")


def test_streams_natively_and_fail_over_to_a_translated_stream(
    gw: Gateway, recorder: Recording
) -> None:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        with sdk.responses.stream(model="auto", input="tell me more") as stream:
            kinds = [event.type for event in stream]
            native = stream.get_final_response()
        assert spoke(recorder) == ["responses"] and recorder.sent[0].stream
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        assert "response.output_text.delta" in kinds
        assert native.output_text and native.model.startswith("groq/")
        assert native.usage is not None and "cost" in (native.usage.model_extra or {})

        gw.sim.set_fault("groq", {"kind": "status", "status": 503})
        with sdk.responses.stream(model="auto", input="tell me more") as stream:
            translated = stream.get_final_response()
    assert spoke(recorder)[1:] == ["responses", "gemini"]
    assert translated.output_text and translated.model.startswith("gemini/")


async def test_the_async_sdk_streams_natively(gw: Gateway, recorder: Recording) -> None:
    async with openai.AsyncOpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        stream = await sdk.responses.create(model="openai/gpt-4o-mini", input="hi", stream=True)
        events = [event async for event in stream]
    assert spoke(recorder) == ["responses"]
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1]
    assert final.type == "response.completed"
    assert text and final.response.output_text == text
    assert final.response.model == "openai/gpt-4o-mini"
