"""Routing through the gateway with the official openai SDK: groups and their fallbacks, the
OpenRouter ``models`` / ``provider`` fields (honoured, never forwarded upstream), reply names
that round-trip, and ``/v1/models`` listing every name a request may send."""

from __future__ import annotations

from typing import Any

import openai

from tests.conftest import SIM_KEYS
from tests.server.conftest import GatewayFactory
from tests.server.test_passthrough import _echo_provider, upstream  # noqa: F401  (fixture)

GROUPS = """
[models.smart]
targets = ["groq/llama-3.3-70b-versatile", "gemini/gemini-2.5-pro"]
fallbacks = ["cheap"]

[models.cheap]
targets = ["openrouter/meta-llama/llama-3.3-70b-instruct:free"]
"""
USER: Any = [{"role": "user", "content": "hi"}]


def client(gw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0)


def test_a_group_and_its_fallback_through_the_sdk(make_gateway: GatewayFactory) -> None:
    gw = make_gateway(extra=GROUPS)
    with client(gw) as c:
        first = c.chat.completions.with_raw_response.create(model="smart", messages=USER)
        assert first.headers["x-llmswitch-provider"] == "groq"
        assert first.parse().model == "groq/openai/gpt-oss-120b"
        for name in ("groq", "gemini"):
            gw.sim.set_fault(name, {"kind": "status", "status": 503})
        fell_back = c.chat.completions.with_raw_response.create(model="smart", messages=USER)
    assert fell_back.headers["x-llmswitch-provider"] == "openrouter"
    assert fell_back.parse().model == "openrouter/meta-llama/llama-3.3-70b-instruct:free"


def test_the_reply_name_sent_back_reaches_the_same_target(make_gateway: GatewayFactory) -> None:
    gw = make_gateway()
    with client(gw) as c:
        name = c.chat.completions.create(model="openai/gpt-oss-120b", messages=USER).model
        again = c.chat.completions.with_raw_response.create(model=name, messages=USER)
    assert name == "groq/openai/gpt-oss-120b"
    assert again.headers["x-llmswitch-provider"] == "groq" and again.parse().model == name


def test_openrouter_fields_choose_the_chain_and_never_reach_the_upstream(
    make_gateway: GatewayFactory,
    upstream: tuple[str, list[dict[str, Any]]],  # noqa: F811
) -> None:
    base_url, seen = upstream
    gw = make_gateway(extra=_echo_provider(base_url))
    with client(gw) as c:
        raw = c.chat.completions.with_raw_response.create(
            model="gemini-2.5-pro",
            messages=USER,
            extra_body={"models": ["echo-1"], "provider": {"ignore": ["gemini"]}},
        )
    assert raw.headers["x-llmswitch-provider"] == "echo"
    assert "models" not in seen[0] and "provider" not in seen[0]
    assert "temperature" not in seen[0] and "max_tokens" not in seen[0], "nothing added"


def test_a_bad_provider_object_is_a_400_naming_the_field(make_gateway: GatewayFactory) -> None:
    gw = make_gateway()
    with client(gw) as c:
        try:
            c.chat.completions.create(
                model="auto", messages=USER, extra_body={"provider": {"sort": 1}}
            )
        except openai.BadRequestError as exc:
            assert "provider.sort: unknown field" in str(exc)
        else:
            raise AssertionError("expected a 400")
    assert gw.sim.requests("groq") == []


def test_models_lists_groups_aliases_and_targets(make_gateway: GatewayFactory) -> None:
    gw = make_gateway(extra=GROUPS)
    with client(gw) as c:
        listed = {m.id: m.owned_by for m in c.models.list()}
    assert listed["auto"] == "llmswitch" and listed["smart"] == "llmswitch"
    assert listed["groq/openai/gpt-oss-120b"] == "groq"
    assert listed["llama-3.3-70b-versatile"] == "groq"  # an alias
    assert listed["openai/gpt-oss-120b"] == "groq"  # a plain id, first server by priority


def test_the_gateway_waits_for_a_free_slot_rather_than_pay(make_gateway: GatewayFactory) -> None:
    gw = make_gateway(
        extra="free_wait_seconds = 90",
        providers={"groq": {"requests_per_minute": 2}},
        keys={k: v for k, v in SIM_KEYS.items() if k in ("GROQ_API_KEY", "OPENAI_API_KEY")},
    )
    with client(gw) as c:
        served = [
            c.chat.completions.with_raw_response.create(model="auto", messages=USER).headers[
                "x-llmswitch-provider"
            ]
            for _ in range(3)
        ]
    assert served == ["groq"] * 3 and gw.sim.requests("openai") == []
