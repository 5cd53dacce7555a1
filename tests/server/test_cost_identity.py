"""Cost and identity in every reply: usage.cost and x-llmswitch-cost-usd, x-request-id, a reason
header never cut mid-word, and /healthz 503 with the reason when no provider is usable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from llmswitch.server.shapes import header_safe
from tests.server.conftest import Gateway, GatewayFactory

USER: Any = [{"role": "user", "content": "hello gateway"}]
PAID = "openai/gpt-4o-mini"


@pytest.fixture()
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as c:
        yield c


def _price(gateway: Gateway, usage: Any) -> float:
    provider = next(p for p in gateway.manager.settings.providers if p.name == "openai")
    price_in, price_out = provider.prices["gpt-4o-mini"]
    return float((usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1e6)


def test_a_reply_carries_its_cost_in_usage_and_header(gateway: Gateway, sdk: openai.OpenAI) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model=PAID, messages=USER)
    reply = raw.parse()
    assert reply.usage is not None
    cost = (reply.usage.model_extra or {})["cost"]
    assert cost == pytest.approx(_price(gateway, reply.usage)) and cost > 0
    assert float(raw.headers["x-llmswitch-cost-usd"]) == pytest.approx(cost)
    free = sdk.chat.completions.with_raw_response.create(model="auto", messages=USER)
    assert free.headers["x-llmswitch-cost-usd"] == "0"


def test_the_final_stream_chunk_carries_the_cost(gateway: Gateway, sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model=PAID, messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    usage = chunks[-1].usage
    assert usage is not None and (usage.model_extra or {})["cost"] == pytest.approx(
        _price(gateway, usage)
    )


def test_responses_usage_carries_the_cost(sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(model=PAID, input="hi")
    usage = raw.parse().usage
    assert usage is not None and (usage.model_extra or {})["cost"] > 0
    assert float(raw.headers["x-llmswitch-cost-usd"]) > 0


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("trace-42.a:b_c", True), (None, False), ("has space", False), ("x" * 200, False)],
)
def test_request_id_is_the_clients_when_sane(
    gateway: Gateway, sent: str | None, kept: bool
) -> None:
    headers = {"x-request-id": sent} if sent is not None else {}
    for r in (
        httpx.post(gateway.v1 + "/chat/completions", json={"messages": USER}, headers=headers),
        httpx.get(gateway.v1 + "/nowhere", headers=headers),  # errors carry it too
    ):
        rid = r.headers["x-request-id"]
        assert (rid == sent) if kept else (rid.startswith("req_") and len(rid) == 36)


def test_the_reason_header_is_whole_or_cut_at_a_word() -> None:
    long = "groq: server_error: " + " ".join(f"word{i}" for i in range(400))
    out = header_safe(long)
    assert len(out) <= 1000 and out.endswith(" ...")
    assert set(out.removesuffix(" ...").split()) <= set(long.split())
    assert header_safe("short, plain\nreason") == "short; plain reason"


def test_a_long_upstream_reason_reaches_the_header_whole(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=USER)
    reason = raw.headers["x-llmswitch-reason"]
    assert reason.startswith("groq: server_error") and not reason.endswith(" ...")
    assert reason.endswith("Service Unavailable")  # Groq's whole message, not ~200 chars of it


def test_healthz_is_503_with_the_reason_without_keys(make_gateway: GatewayFactory) -> None:
    r = httpx.get(make_gateway(keys={}).base_url + "/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable" and "GROQ_API_KEY" in r.json()["reason"]


def test_healthz_is_503_while_every_provider_cools_down(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    for name in ("groq", "gemini", "openrouter", "together", "openai"):
        gateway.sim.set_fault(name, {"kind": "status", "status": 503})
    with pytest.raises(openai.APIStatusError):
        sdk.chat.completions.create(model="auto", messages=USER)
    r = httpx.get(gateway.base_url + "/healthz")
    assert r.status_code == 503
    assert r.json()["reason"].startswith("no provider can take a call now: groq:")
    gateway.clock.advance(3600)
    assert httpx.get(gateway.base_url + "/healthz").status_code == 200
