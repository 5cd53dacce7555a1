"""The serving key's x-ratelimit-* headers: what llmswitch will still admit on that key after
the call (its tightest window as admission counts it), on JSON replies, streams and Responses."""

from __future__ import annotations

import re
from typing import Any

import openai
import pytest

from llmswitch.server.ratelimit_headers import duration
from tests.server.conftest import Gateway, GatewayFactory

USER: Any = [{"role": "user", "content": "hello gateway"}]
GROQ = "groq/openai/gpt-oss-120b"
DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)$")


def seconds(text: str) -> float:
    """Parse OpenAI's reset duration back (the test's own reader, to check the format)."""
    assert DURATION.match(text), text
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([hms])", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def groq_gateway(make_gateway: GatewayFactory, **windows: int) -> Gateway:
    limits = {"requests_per_minute": 5, "tokens_per_minute": 5_000, "requests_per_day": 0}
    limits.update(windows)
    return make_gateway(providers={"groq": {**limits, "tokens_per_day": 0}})


def test_a_reply_says_what_is_left_of_the_serving_keys_minute(
    make_gateway: GatewayFactory,
) -> None:
    gw = groq_gateway(make_gateway)
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        first = sdk.chat.completions.with_raw_response.create(model=GROQ, messages=USER)
        usage = first.parse().usage
        assert usage is not None
        h = first.headers
        assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"]) == ("5", "4")
        assert 0 < seconds(h["x-ratelimit-reset-requests"]) <= 61
        assert h["x-ratelimit-limit-tokens"] == "5000"
        assert int(h["x-ratelimit-remaining-tokens"]) == 5_000 - usage.total_tokens
        second = sdk.chat.completions.with_raw_response.create(model=GROQ, messages=USER)
        assert second.headers["x-ratelimit-remaining-requests"] == "3"
        gw.clock.advance(61)
        third = sdk.chat.completions.with_raw_response.create(model=GROQ, messages=USER)
        assert third.headers["x-ratelimit-remaining-requests"] == "4"  # the minute slid by


def test_the_tightest_window_is_reported_with_the_daily_soft_limit_applied(
    make_gateway: GatewayFactory,
) -> None:
    gw = groq_gateway(make_gateway, requests_per_day=4)  # admitted: 3 (daily_soft_limit 0.95)
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(model=GROQ, messages=USER)
        h = raw.headers
        assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"]) == ("3", "2")
        assert seconds(h["x-ratelimit-reset-requests"]) > 61  # the day window, not the minute
        for _ in range(2):
            raw = sdk.chat.completions.with_raw_response.create(model=GROQ, messages=USER)
        assert raw.headers["x-ratelimit-remaining-requests"] == "0"
        with pytest.raises(openai.RateLimitError):  # zero meant it: the key takes no more
            sdk.chat.completions.create(model=GROQ, messages=USER)


def test_streams_and_responses_carry_them_too(make_gateway: GatewayFactory) -> None:
    gw = groq_gateway(make_gateway)
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        with sdk.chat.completions.with_streaming_response.create(
            model=GROQ, messages=USER, stream=True
        ) as stream:
            assert stream.headers["x-ratelimit-remaining-requests"] == "4"  # this call counted
            assert int(stream.headers["x-ratelimit-remaining-tokens"]) < 5_000  # its reservation
            assert "".join(stream.iter_lines())
        responses = sdk.responses.with_raw_response.create(model=GROQ, input="hi")
        assert responses.headers["x-ratelimit-remaining-requests"] == "3"
        with sdk.responses.with_streaming_response.create(
            model=GROQ, input="hi", stream=True
        ) as events:
            assert events.headers["x-ratelimit-remaining-requests"] == "2"


def test_the_key_that_served_after_a_failover_is_the_one_reported(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway(
        providers={
            "groq": {"requests_per_minute": 5},
            "gemini": {"requests_per_minute": 7, "requests_per_day": 0, "tokens_per_minute": 0},
        }
    )
    gw.sim.set_fault("groq", {"kind": "status", "status": 503})
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=USER)
    assert raw.headers["x-llmswitch-provider"] == "gemini"
    assert raw.headers["x-ratelimit-limit-requests"] == "7"
    assert raw.headers["x-ratelimit-remaining-requests"] == "6"


def test_the_duration_format() -> None:
    assert [duration(s) for s in (0.0, 0.25, 1, 59.5, 60, 360, 3723, 86_399)] == [
        "0ms",
        "250ms",
        "1s",
        "59.5s",
        "1m0s",
        "6m0s",
        "1h2m3s",
        "23h59m59s",
    ]


def test_a_key_the_provider_said_is_spent_reports_nothing_left_until_its_reset(
    make_gateway: GatewayFactory,
) -> None:
    gw = groq_gateway(make_gateway)  # llmswitch allows 5 a minute ...
    gw.sim.set_limits("groq", rpd=1)  # ... but the provider's day has room for one request
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(model=GROQ, messages=USER)
        assert raw.headers["x-ratelimit-remaining-requests"] == "0"
        assert seconds(raw.headers["x-ratelimit-reset-requests"]) > 3600  # the provider's day
        with pytest.raises(openai.RateLimitError):  # zero meant it: the key is blocked
            sdk.chat.completions.create(model=GROQ, messages=USER)
