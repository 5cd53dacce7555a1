"""The call machine's stream rules through the gateway, with the official openai SDK as client."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.server.conftest import GatewayFactory

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "tell me a story"}]


def test_a_cut_stream_continues_as_one_answer_with_the_continuation_header(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway()
    gw.sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    sdk = openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0)
    with (
        sdk,
        sdk.chat.completions.with_streaming_response.create(
            model="auto",
            messages=USER,
            stream=True,
            max_tokens=60,
            stream_options={"include_usage": True},
            extra_headers={"x-llmswitch-continuation": "on"},
        ) as response,
    ):
        assert response.headers["x-llmswitch-provider"] == "groq"
        chunks = list(response.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Simulated reply from groq/")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"  # one complete answer, closed normally
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert len(gw.sim.requests("openrouter")) == 1  # the continuation


def test_without_the_header_a_cut_stream_ends_with_an_error_event(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway()
    gw.sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        stream = sdk.chat.completions.create(
            model="auto", messages=USER, stream=True, max_tokens=60
        )
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass
    assert len(gw.sim.requests("openrouter")) == 0


def test_a_bad_continuation_header_is_a_400_naming_it(make_gateway: GatewayFactory) -> None:
    gw = make_gateway()
    sdk = openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0)
    with sdk, pytest.raises(openai.BadRequestError, match="x-llmswitch-continuation"):
        sdk.chat.completions.create(
            model="auto",
            messages=USER,
            stream=True,
            extra_headers={"x-llmswitch-continuation": "maybe"},
        )


def test_a_stream_without_done_reaches_the_sdk_complete(make_gateway: GatewayFactory) -> None:
    gw = make_gateway()
    gw.sim.set_fault("groq", {"kind": "no_done"})
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        chunks = list(
            sdk.chat.completions.create(
                model="auto",
                messages=USER,
                stream=True,
                max_tokens=30,
                stream_options={"include_usage": True},
            )
        )
    assert chunks[-1].usage is not None
    assert gw.manager.get_provider_status()["providers"]["groq"]["circuit"] == "closed"


def test_failover_attempts_are_in_the_stream_headers(make_gateway: GatewayFactory) -> None:
    gw = make_gateway()
    gw.sim.set_fault("groq", {"kind": "status", "status": 503})
    sdk = openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0)
    with (
        sdk,
        sdk.chat.completions.with_streaming_response.create(
            model="auto", messages=USER, stream=True, max_tokens=30
        ) as response,
    ):
        assert response.headers["x-llmswitch-attempts"] == "groq:server_error,gemini:ok"
        list(response.parse())
