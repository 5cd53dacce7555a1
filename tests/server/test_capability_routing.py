"""Capability-aware routing through the official SDK: a target that cannot honour a parameter is
skipped and the attempts say so; when none can, a 400 names the parameter and who could."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.server.conftest import Gateway

USER: Any = [{"role": "user", "content": "hello gateway"}]


@pytest.fixture()
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as c:
        yield c


def test_n_skips_the_targets_that_return_one_choice(gateway: Gateway, sdk: openai.OpenAI) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=USER, n=2)
    attempts = raw.headers["x-llmswitch-attempts"].split(",")
    assert attempts[:3] == [
        "groq:cannot_honour",
        "gemini:cannot_honour",
        "openrouter:cannot_honour",
    ]
    assert attempts[-1] == "together:ok"
    assert "cannot honour 'n'" in raw.headers["x-llmswitch-reason"]
    assert len(raw.parse().choices) == 2
    assert gateway.sim.requests("groq") == []  # never sent a request it would change


def test_an_https_image_goes_to_a_model_that_takes_urls(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    # An image Gemini's native wire cannot get (a loopback address is never fetched, so no
    # connection is made): Gemini is skipped and a model that takes URLs serves. Fetching and
    # inlining for Gemini: tests/server/test_gemini_images.py.
    image: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "https://127.0.0.1:9/cat.png"}},
            ],
        }
    ]
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=image)
    assert raw.headers["x-llmswitch-provider"] == "openai"
    assert "gemini:cannot_honour" in raw.headers["x-llmswitch-attempts"]


async def test_when_no_target_can_the_400_names_the_parameter_and_who_could(
    gateway: Gateway,
) -> None:
    async with openai.AsyncOpenAI(base_url=gateway.v1, api_key="x", max_retries=0) as c:
        with pytest.raises(openai.BadRequestError) as info:
            await c.chat.completions.create(model="groq/openai/gpt-oss-120b", messages=USER, n=2)
    message = info.value.message
    assert "'n' needs multiple choices" in message
    assert "gemini/gemini-2.5-pro" in message and "openai/gpt-4o-mini" in message
    assert "groq/" not in message.split("models that can:")[1]


def test_a_stream_skips_as_well(gateway: Gateway, sdk: openai.OpenAI) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=USER, n=2, stream=True
    )
    assert raw.headers["x-llmswitch-provider"] == "together"
