"""Groq's wire: header triples (per DAY / per MINUTE), Go durations, 429/413, x_groq, refusals."""

from __future__ import annotations

import json
import re

import httpx
import openai
import pytest

from llmswitch.simulator import count_prompt_tokens
from llmswitch.testing import SimulatorHandle

from .conftest import HELLO, KEYS, sdk

MODEL = "openai/gpt-oss-120b"
GO = re.compile(r"^(\d+h)?(\d+m)?(\d+(\.\d+)?(ms|s))$")


def _create(client: openai.OpenAI, **extra: object) -> object:
    return client.chat.completions.with_raw_response.create(model=MODEL, messages=HELLO, **extra)  # type: ignore[call-overload]


def test_both_header_triples_with_go_durations(sim: SimulatorHandle) -> None:
    raw = _create(sdk(sim, "groq"))
    h = raw.headers  # type: ignore[attr-defined]
    tokens = count_prompt_tokens(HELLO) + 16
    assert h["x-ratelimit-limit-requests"] == "1000"  # requests per DAY
    assert h["x-ratelimit-remaining-requests"] == "999"
    assert h["x-ratelimit-reset-requests"] == "1m26.4s"  # 1/1000 of a day
    assert h["x-ratelimit-limit-tokens"] == "8000"  # tokens per MINUTE
    assert h["x-ratelimit-remaining-tokens"] == str(8000 - tokens)
    assert h["x-ratelimit-reset-tokens"] == f"{round(tokens * 60 / 8000 * 1000)}ms"
    assert "retry-after" not in h
    for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"):
        assert GO.match(h[name])


def test_thirty_first_request_in_a_minute_is_429_then_passes_after_60s(
    sim: SimulatorHandle,
) -> None:
    client = sdk(sim, "groq")
    for _ in range(30):
        _create(client)
        sim.clock.advance(1.0)  # type: ignore[attr-defined]
    with pytest.raises(openai.RateLimitError) as info:
        _create(client)
    err = info.value
    body = err.body
    assert isinstance(body, dict)
    assert body["code"] == "rate_limit_exceeded" and body["type"] == "requests"
    assert "on requests per minute (RPM): Limit 30, Used 30, Requested 1." in body["message"]
    assert "Please try again in 30s." in body["message"]
    assert err.response.headers["retry-after"] == "30"
    assert err.response.headers["x-ratelimit-limit-requests"] == "1000"
    sim.clock.advance(30.0)  # type: ignore[attr-defined]
    _create(client)
    times = [r["time"] for r in sim.requests("groq", key=KEYS["groq"]) if r["status"] == 200]
    assert all(b - a >= 60 for a, b in zip(times, times[30:], strict=False))


def test_token_per_minute_limit_and_its_message(sim: SimulatorHandle) -> None:
    sim.set_limits("groq", tpm=100)
    client = sdk(sim, "groq")
    per = count_prompt_tokens(HELLO) + 16
    for _ in range(100 // per):
        _create(client)
    with pytest.raises(openai.RateLimitError) as info:
        _create(client)
    body = info.value.body
    assert isinstance(body, dict) and body["type"] == "tokens"
    assert "on tokens per minute (TPM): Limit 100" in body["message"]


def test_single_request_above_tpm_is_413(sim: SimulatorHandle) -> None:
    sim.set_limits("groq", tpm=50)
    big = [{"role": "user", "content": "x" * 400}]
    with pytest.raises(openai.APIStatusError) as info:
        sdk(sim, "groq").chat.completions.create(model=MODEL, messages=big)  # type: ignore[arg-type]
    assert info.value.status_code == 413
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "rate_limit_exceeded"
    assert body["message"].startswith(f"Request too large for model `{MODEL}`")


def test_daily_limit_message_and_rolling_day(sim: SimulatorHandle) -> None:
    sim.set_limits("groq", rpd=2, key=KEYS["groq"])
    client = sdk(sim, "groq")
    _create(client)
    _create(client)
    with pytest.raises(openai.RateLimitError) as info:
        _create(client)
    assert "requests per day (RPD): Limit 2, Used 2" in str(info.value.body)
    _create(sdk(sim, "groq", key="gsk_other_key"))  # other keys are unaffected
    sim.clock.advance(86_400)  # type: ignore[attr-defined]
    _create(client)


def test_stream_carries_x_groq_id_and_final_usage(sim: SimulatorHandle) -> None:
    with httpx.stream(
        "POST",
        sim.provider_base_url("groq") + "/chat/completions",
        headers={"Authorization": f"Bearer {KEYS['groq']}"},
        json={"model": MODEL, "messages": HELLO, "stream": True},
    ) as r:
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert "x_groq" in chunks[0] and "usage" not in chunks[0]["x_groq"]
    assert chunks[-1]["x_groq"]["usage"]["completion_tokens"] == 16
    assert all("x_groq" not in c for c in chunks[1:-1])
    assert all("usage" not in c for c in chunks)  # no include_usage: no usage chunk


def test_reply_has_timings_and_x_groq(sim: SimulatorHandle) -> None:
    reply = sdk(sim, "groq").chat.completions.create(model=MODEL, messages=HELLO)
    data = reply.model_dump()
    assert data["x_groq"]["id"].startswith("req_")
    assert {"queue_time", "prompt_time", "completion_time", "total_time"} <= set(data["usage"])


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("llama-3.3-70b-versatile", 404, "model_not_found"),
        ("mixtral-8x7b-32768", 400, "model_decommissioned"),
    ],
)
def test_retired_models(sim: SimulatorHandle, model: str, status: int, code: str) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        sdk(sim, "groq").chat.completions.create(model=model, messages=HELLO)
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict) and info.value.body["code"] == code


def test_groq_specific_refusals(sim: SimulatorHandle) -> None:
    client = sdk(sim, "groq")
    with pytest.raises(openai.BadRequestError, match="'n' : number must be at most 1"):
        client.chat.completions.create(model=MODEL, messages=HELLO, n=2)
    with pytest.raises(openai.BadRequestError, match="property 'name' is unsupported"):
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi", "name": "bob"}]
        )


def test_invalid_key_body(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        sdk(sim, "groq", key="gsk_invalid").chat.completions.create(model=MODEL, messages=HELLO)
    assert info.value.body == {
        "message": "Invalid API Key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }


def test_quota_exhausted_fault_is_the_rpd_message(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", "quota_exhausted")
    with pytest.raises(openai.RateLimitError) as info:
        _create(sdk(sim, "groq"))
    assert "on requests per day (RPD)" in str(info.value.body)
    assert info.value.response.headers["retry-after"] == "86400"
