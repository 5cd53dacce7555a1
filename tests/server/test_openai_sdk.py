"""The official ``openai`` SDK as the client of our gateway: what an existing app would see.

Every test goes over a real loopback socket to the gateway, which calls the simulated providers
over loopback too. Simulated time moves with ``clock.advance``; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.server.conftest import Gateway, GatewayFactory

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello gateway"}]
ALL = ("groq", "gemini", "openrouter", "together", "openai")


@contextmanager
def client(gw: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as c:
        yield c


def aclient(gw: Gateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gw.v1, api_key="unused", max_retries=0)


@pytest.fixture()
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with client(gateway) as c:
        yield c


def test_sync_completion_names_the_serving_provider_in_headers(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=USER)
    reply = raw.parse()
    assert (reply.choices[0].message.content or "").startswith("Simulated reply from groq/")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.total_tokens > 0
    assert raw.headers["x-llmswitch-provider"] == "groq"
    assert raw.headers["x-llmswitch-model"] == "openai/gpt-oss-120b"
    assert raw.headers["x-llmswitch-attempts"] == "groq:ok"


async def test_async_completion_with_an_alias_and_a_pinned_provider(gateway: Gateway) -> None:
    async with aclient(gateway) as c:
        retired = await c.chat.completions.with_raw_response.create(
            model="llama-3.3-70b-versatile", messages=USER
        )
        pinned = await c.chat.completions.with_raw_response.create(
            model="gemini/gemini-3.6-flash", messages=USER
        )
    assert retired.headers["x-llmswitch-provider"] == "groq"
    # the reply names what served it, as a name that reaches that target again
    assert retired.parse().model == "groq/openai/gpt-oss-120b"
    assert pinned.parse().model == "gemini/gemini-3.6-flash"
    assert pinned.headers["x-llmswitch-provider"] == "gemini"
    text = pinned.parse().choices[0].message.content or ""
    assert text.startswith("Simulated reply from gemini/")


def test_stream_with_usage_chunk_matches_the_non_streamed_text(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    c = sdk
    whole = c.chat.completions.create(model="auto", messages=USER)
    with c.chat.completions.with_streaming_response.create(
        model="auto", messages=USER, stream=True, stream_options={"include_usage": True}
    ) as response:
        assert response.headers["x-llmswitch-provider"] == "groq"
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.parse())
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == whole.choices[0].message.content
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]


async def test_async_stream_without_usage_has_no_usage_chunk(gateway: Gateway) -> None:
    async with aclient(gateway) as c:
        stream = await c.chat.completions.create(model="auto", messages=USER, stream=True)
        chunks = [ch async for ch in stream]
    assert all(ch.choices for ch in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"


def test_stream_fails_over_before_the_first_token_and_headers_tell(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    with sdk.chat.completions.with_streaming_response.create(
        model="auto", messages=USER, stream=True
    ) as response:
        text = "".join(ch.choices[0].delta.content or "" for ch in response.parse() if ch.choices)
        headers = response.headers
    assert text.startswith("Simulated reply from gemini/")
    assert headers["x-llmswitch-provider"] == "gemini"
    assert headers["x-llmswitch-attempts"] == "groq:server_error,gemini:ok"
    assert headers["x-llmswitch-reason"].startswith("groq: server_error")


def test_a_stream_cut_after_the_first_token_raises_instead_of_ending_quietly(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    gateway.sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 3})
    stream = sdk.chat.completions.create(model="auto", messages=USER, stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for ch in stream:
            received.append(ch)
    assert received, "the first token reached the client before the cut"
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] in ("connection", "malformed_reply")


def _fill_every_minute_window(c: openai.OpenAI) -> None:
    served = {
        c.chat.completions.with_raw_response.create(model="auto", messages=USER).headers[
            "x-llmswitch-provider"
        ]
        for _ in ALL
    }
    assert served == set(ALL)


def test_every_provider_at_its_limit_gives_429_with_retry_after(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway(providers={name: {"requests_per_minute": 1} for name in ALL})
    for name in ALL:  # providers announce their limits in headers, and they win: match them
        gw.sim.set_limits(name, rpm=1)
    with client(gw) as c:
        _fill_every_minute_window(c)
        gw.clock.advance(20.0)
        with pytest.raises(openai.RateLimitError) as caught:
            c.chat.completions.create(model="auto", messages=USER)
        gw.clock.advance(40.5)  # the rest of Groq's minute, plus the window guard
        again = c.chat.completions.with_raw_response.create(model="auto", messages=USER)
    response = caught.value.response
    assert response.status_code == 429
    # Groq's minute frees first: its headers said 40 s; our own window adds its 0.5 s guard
    assert int(response.headers["retry-after"]) == 40
    body = caught.value.body
    assert isinstance(body, dict)
    assert [a["provider"] for a in body["attempts"]] == list(ALL)
    assert {a["outcome"] for a in body["attempts"]} == {"not_admitted"}
    assert again.headers["x-llmswitch-provider"] == "groq"


def test_all_providers_failing_gives_502_then_503_while_they_cool_down(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    for name in ALL:
        gateway.sim.set_fault(name, {"kind": "status", "status": 503})
    with pytest.raises(openai.InternalServerError) as first:
        sdk.chat.completions.create(model="auto", messages=USER)
    assert first.value.status_code == 502
    body = first.value.body
    assert isinstance(body, dict)
    assert [a["outcome"] for a in body["attempts"]] == ["server_error"] * 5
    assert first.value.response.headers["x-llmswitch-attempts"].count("server_error") == 5
    with pytest.raises(openai.InternalServerError) as second:
        sdk.chat.completions.create(model="auto", messages=USER)
    assert second.value.status_code == 503
    assert int(second.value.response.headers["retry-after"]) == 300


def test_unknown_model_is_a_400_that_names_the_model(gateway: Gateway, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="no-such-model", messages=USER)
    assert "no-such-model" in caught.value.message
    assert gateway.sim.requests("groq") == []


@pytest.mark.parametrize(
    ("fault", "code"),
    [("context_length", "context_length_exceeded"), ("content_filter", "content_filter")],
)
def test_provider_refusing_the_content_is_a_400_without_failover(
    gateway: Gateway, sdk: openai.OpenAI, fault: str, code: str
) -> None:
    gateway.sim.set_fault("groq", {"kind": fault})
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="groq/openai/gpt-oss-120b", messages=USER)
    assert caught.value.code == code
    assert gateway.sim.requests("gemini") == [], "a bad request must not burn other quotas"


def test_malformed_body_is_a_400(gateway: Gateway, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="auto", messages=[])
    assert caught.value.param == "messages"


def test_models_lists_auto_pins_and_plain_ids(gateway: Gateway, sdk: openai.OpenAI) -> None:
    ids = [m.id for m in sdk.models.list()]
    assert ids[0] == "auto"
    assert "groq/openai/gpt-oss-120b" in ids and "gemini/gemini-3.6-flash" in ids
    assert "gpt-4o-mini" in ids
