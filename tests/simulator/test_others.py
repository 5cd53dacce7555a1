"""OpenRouter, Together and OpenAI specifics: headers, free pool, /key, stream dialects."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import openai
import pytest

from llmswitch.simulator import count_prompt_tokens
from llmswitch.testing import SimulatorHandle

from .conftest import HELLO, KEYS, MODELS, sdk

FREE_A, FREE_B = "openai/gpt-oss-120b:free", "meta-llama/llama-3.3-70b-instruct:free"


def _raw(sim: SimulatorHandle, provider: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        sim.provider_base_url(provider) + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {KEYS[provider]}"},
    )


def _events(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


# -- OpenRouter -------------------------------------------------------------------------------


def test_openrouter_success_has_no_rate_headers_and_reports_cost(sim: SimulatorHandle) -> None:
    r = _raw(sim, "openrouter", {"model": "deepseek/deepseek-r1-0528", "messages": HELLO})
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("x-ratelimit")]
    data = r.json()
    assert data["id"].startswith("gen-") and data["provider"]
    assert data["usage"]["cost"] > 0 and data["choices"][0]["native_finish_reason"] == "stop"


def test_openrouter_free_pool_is_shared_and_429_has_ms_reset(sim: SimulatorHandle) -> None:
    client = sdk(sim, "openrouter")
    for i in range(20):
        client.chat.completions.create(model=FREE_A if i % 2 else FREE_B, messages=HELLO)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=FREE_B, messages=HELLO)
    h = info.value.response.headers
    assert h["x-ratelimit-limit"] == "20" and h["x-ratelimit-remaining"] == "0"
    now = sim.clock()
    assert int(h["x-ratelimit-reset"]) == pytest.approx((now + 60) * 1000, abs=1000)
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == 429
    assert body["message"] == "Rate limit exceeded: free-models-per-min."
    assert body["metadata"]["headers"]["X-RateLimit-Reset"] == h["x-ratelimit-reset"]
    # paid models are not in the free pool
    client.chat.completions.create(model="deepseek/deepseek-r1-0528", messages=HELLO)


def test_openrouter_day_resets_at_utc_midnight(sim: SimulatorHandle) -> None:
    sim.set_limits("openrouter", rpm=0, rpd=50)
    day = 86_400 * 20_602  # a UTC midnight
    sim.clock.set(day + 3_600)  # type: ignore[attr-defined]
    client = sdk(sim, "openrouter")
    for _ in range(50):
        client.chat.completions.create(model=FREE_A, messages=HELLO)
    sim.clock.set(day + 86_399)  # type: ignore[attr-defined]
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=FREE_A, messages=HELLO)
    assert info.value.response.headers["x-ratelimit-reset"] == str((day + 86_400) * 1000)
    body = info.value.body
    assert isinstance(body, dict)
    assert body["message"].startswith("Rate limit exceeded: free-models-per-day. Add 10 credits")
    assert body["metadata"]["limit_source"] == "openrouter_free_tier_daily"
    assert datetime.fromtimestamp(day + 86_400, UTC).hour == 0
    sim.clock.set(day + 86_400)  # type: ignore[attr-defined]
    client.chat.completions.create(model=FREE_A, messages=HELLO)


def test_openrouter_stream_comment_usage_and_mid_stream_error(sim: SimulatorHandle) -> None:
    body = {"model": FREE_A, "messages": HELLO, "stream": True}
    r = _raw(sim, "openrouter", body)
    assert r.text.startswith(": OPENROUTER PROCESSING\n\n")
    events = _events(r.text)
    assert events[-1] == "[DONE]" and json.loads(events[-2])["usage"]["completion_tokens"] == 16
    sim.set_fault("openrouter", {"kind": "error_in_200", "after_chunks": 1})
    r = _raw(sim, "openrouter", body)
    assert r.status_code == 200
    last = json.loads(_events(r.text)[-1])
    assert last["error"]["code"] == 502 and last["choices"][0]["finish_reason"] == "error"


def test_openrouter_key_endpoint_and_upstream_429(sim: SimulatorHandle) -> None:
    r = httpx.get(
        sim.provider_base_url("openrouter") + "/key",
        headers={"Authorization": f"Bearer {KEYS['openrouter']}"},
    )
    data = r.json()["data"]
    assert KEYS["openrouter"] not in json.dumps(data) and data["label"].endswith("test")
    assert httpx.get(sim.provider_base_url("openrouter") + "/key").status_code == 401
    sim.set_fault("openrouter", {"kind": "rate_limit", "retry_after": 3})
    with pytest.raises(openai.RateLimitError) as info:
        sdk(sim, "openrouter").chat.completions.create(model=FREE_A, messages=HELLO)
    body = info.value.body
    assert isinstance(body, dict) and body["message"] == "Provider returned error"
    assert body["metadata"]["limit_source"] == "upstream_provider_shared_pool"
    assert "x-ratelimit-limit" not in info.value.response.headers


# -- Together ---------------------------------------------------------------------------------


def test_together_per_second_headers_eos_and_final_chunk_usage(sim: SimulatorHandle) -> None:
    r = _raw(sim, "together", {"model": MODELS["together"], "messages": HELLO})
    h = r.headers
    assert h["x-ratelimit-limit"] == "0.67" and h["x-ratelimit-remaining"] == "0.65"
    assert h["x-ratelimit-limit-dynamic"] == "0.67"
    assert h["x-tokenlimit-limit"] == "1.16" and "x-tokenlimit-remaining-dynamic" in h
    assert r.json()["choices"][0]["finish_reason"] == "eos"
    assert r.json()["usage"]["cached_tokens"] == 0
    stream = _raw(sim, "together", {"model": MODELS["together"], "messages": HELLO, "stream": True})
    chunks = [json.loads(e) for e in _events(stream.text)[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "eos"
    assert chunks[-1]["usage"]["completion_tokens"] == 16
    assert sum(1 for c in chunks if c.get("usage")) == 1


def test_together_models_is_a_bare_array(sim: SimulatorHandle) -> None:
    r = httpx.get(
        sim.provider_base_url("together") + "/models",
        headers={"Authorization": f"Bearer {KEYS['together']}"},
    )
    data = r.json()
    assert isinstance(data, list) and MODELS["together"] in {m["id"] for m in data}
    assert data[0]["pricing"]["input"] == 0.88


def test_together_429_is_dynamic_typed_with_reset(sim: SimulatorHandle) -> None:
    sim.set_limits("together", rpm=1)
    client = sdk(sim, "together")
    client.chat.completions.create(model=MODELS["together"], messages=HELLO)
    sim.clock.advance(15)  # type: ignore[attr-defined]
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODELS["together"], messages=HELLO)
    assert isinstance(info.value.body, dict)
    assert info.value.body["type"] == "dynamic_request_limited"
    assert info.value.response.headers["x-ratelimit-reset"] == "45"
    sim.set_fault("together", "quota_exhausted")
    with pytest.raises(openai.APIStatusError) as info2:
        client.chat.completions.create(model=MODELS["together"], messages=HELLO)
    assert info2.value.status_code == 402


# -- OpenAI -----------------------------------------------------------------------------------


def test_openai_per_minute_triples(sim: SimulatorHandle) -> None:
    raw = sdk(sim, "openai").chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=HELLO
    )
    h = raw.headers
    tokens = count_prompt_tokens(HELLO) + 16
    assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"]) == ("60", "59")
    assert h["x-ratelimit-reset-requests"] == "1s"
    assert h["x-ratelimit-limit-tokens"] == "150000"
    assert h["x-ratelimit-remaining-tokens"] == str(150000 - tokens)
    assert h["x-ratelimit-reset-tokens"].endswith("ms")


def test_openai_tells_rate_limit_from_insufficient_quota(sim: SimulatorHandle) -> None:
    client = sdk(sim, "openai")
    sim.set_limits("openai", rpm=1)
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert info.value.code == "rate_limit_exceeded"
    assert "on requests per min (RPM): Limit 1, Used 1, Requested 1" in info.value.message
    assert info.value.response.headers["retry-after"] == "60"
    sim.set_fault("openai", "quota_exhausted")
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert info.value.code == "insufficient_quota" and info.value.type == "insufficient_quota"


def test_openai_usage_chunk_has_empty_choices(sim: SimulatorHandle) -> None:
    r = _raw(
        sim,
        "openai",
        {
            "model": "gpt-4o-mini",
            "messages": HELLO,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    events = _events(r.text)
    assert events[-1] == "[DONE]"
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["total_tokens"] > 0
    assert all(json.loads(e)["usage"] is None for e in events[:-2])


def test_openai_models_have_shutdown_date(sim: SimulatorHandle) -> None:
    models = {m.id: m for m in sdk(sim, "openai").models.list()}
    assert models["gpt-4o-mini"].model_dump()["shutdown_date"] == "2027-01-14"
