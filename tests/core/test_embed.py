"""``embed`` / ``aembed`` through the call machine against the simulator: vectors in input order,
failover within one embedding model only (or across a group's explicit list), admission by the
input's tokens, key rotation, the breaker, the ledger and the status counting every call."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from llmswitch._errors import AllProvidersFailed, BadRequest, ConfigError
from llmswitch._types import Outcome
from llmswitch.testing import FakeClock
from tests.conftest import SIM_KEYS, ManagerFactory

PROVIDERS = ("groq", "gemini", "openrouter", "together", "openai")


def outcomes(result: object) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome.value) for a in getattr(result, "attempts", ())]


def sent(sim: Any, provider: str) -> list[dict[str, Any]]:
    return sim.requests(provider)  # type: ignore[no-any-return]


def test_vectors_come_back_in_input_order_with_usage_and_cost(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    result = llm.embed(["apple", "pear", "apple"], model="text-embedding-3-large")
    assert result.target == "openai/text-embedding-3-large"
    assert result.dimensions == 3072 and len(result.vectors) == 3
    assert result.vectors[0] == result.vectors[2] != result.vectors[1]
    assert math.isclose(sum(v * v for v in result.vectors[1]), 1.0, rel_tol=1e-4)
    served = sent(sim, "openai")[0]
    assert (
        result.usage.prompt_tokens == served["prompt_tokens"]
        and result.usage.completion_tokens == 0
    )
    assert result.cost_usd == pytest.approx(result.usage.prompt_tokens * 0.13 / 1e6)
    assert outcomes(result) == [("openai", "ok")]
    assert result.request_id.startswith("req_")


def test_a_failing_provider_fails_over_to_the_same_model_elsewhere(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("openrouter", {"kind": "status", "status": 503, "count": 1})
    result = llm.embed("hello", model="text-embedding-3-small")
    assert outcomes(result) == [("openrouter", "server_error"), ("openai", "ok")]
    assert result.target == "openai/text-embedding-3-small" and result.dimensions == 1536
    # the breaker holds: the next call skips the cooling target without sending to it
    again = llm.embed("hello again", model="text-embedding-3-small")
    assert outcomes(again) == [("openrouter", "cooling_down"), ("openai", "ok")]
    assert len(sent(sim, "openrouter")) == 1
    for other in ("groq", "gemini", "together"):  # never another model's vectors
        assert sent(sim, other) == []


def test_a_model_served_once_never_fails_over_to_another_model(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("gemini", {"kind": "status", "status": 503, "count": 5})
    with pytest.raises(AllProvidersFailed) as info:
        llm.embed("hello", model="gemini-embedding-001")
    assert [a.outcome for a in info.value.attempts] == [Outcome.SERVER_ERROR]
    assert all(sent(sim, p) == [] for p in PROVIDERS if p != "gemini")


def test_a_group_listing_two_models_is_an_explicit_failover_across_them(
    make_manager: ManagerFactory, sim: Any
) -> None:
    targets = '["gemini/gemini-embedding-001", "openai/text-embedding-3-large"]'
    llm = make_manager(extra=f"\n[models.vectors]\ntargets = {targets}")
    sim.set_fault("gemini", {"kind": "status", "status": 500, "count": 1})
    result = llm.embed("hello", model="vectors")
    assert outcomes(result) == [("gemini", "server_error"), ("openai", "ok")]
    assert result.dimensions == 3072


def test_gemini_is_called_natively_and_its_missing_usage_is_estimated(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    result = llm.embed(["one text", "another text"], dimensions=256)  # auto: Gemini's model
    assert result.target == "gemini/gemini-embedding-001" and result.dimensions == 256
    assert result.usage.prompt_tokens == math.ceil(8 / 3.5) + math.ceil(12 / 3.5)
    assert result.cost_usd == 0.0  # Gemini's free tier
    assert sent(sim, "gemini")[0]["model"] == "gemini-embedding-001"


def test_together_reports_no_usage_so_the_estimate_is_billed(make_manager: ManagerFactory) -> None:
    llm = make_manager()
    result = llm.embed("bonjour tout le monde", model="intfloat/multilingual-e5-large-instruct")
    assert result.dimensions == 1024
    assert result.usage.prompt_tokens == math.ceil(21 / 3.5)
    assert result.cost_usd == pytest.approx(result.usage.prompt_tokens * 0.02 / 1e6)
    assert llm.get_usage()["providers"]["together"]["cost_usd"] == pytest.approx(result.cost_usd)


def test_the_ledger_usage_and_status_count_embeddings(make_manager: ManagerFactory) -> None:
    llm = make_manager()
    first = llm.embed("count me", model="text-embedding-3-large")
    second = llm.embed(["me", "too"], model="text-embedding-3-large")
    usage = llm.get_usage()["providers"]["openai"]
    assert usage["requests"] == 2 and usage["succeeded"] == 2
    assert usage["prompt_tokens"] == first.usage.prompt_tokens + second.usage.prompt_tokens
    assert usage["cost_usd"] == pytest.approx(first.cost_usd + second.cost_usd)
    status = llm.get_provider_status()["providers"]["openai"]
    assert status["requests_today"] == 2
    assert status["cost_today_usd"] == pytest.approx(first.cost_usd + second.cost_usd)


def test_admission_reserves_the_inputs_tokens_in_the_token_window(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(providers={"gemini": {"tokens_per_minute": 50}})
    with pytest.raises(AllProvidersFailed) as info:
        llm.embed("x" * 400, model="gemini-embedding-001")  # about 115 tokens > 50
    assert [a.outcome for a in info.value.attempts] == [Outcome.NOT_ADMITTED]
    assert sent(sim, "gemini") == []  # refused here, before any 429 upstream
    assert llm.embed("short", model="gemini-embedding-001").provider == "gemini"


def test_the_request_window_holds_and_frees_with_time(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(
        providers={"gemini": {"requests_per_minute": 1}}, extra="free_wait_seconds = 0"
    )
    llm.embed("one", model="gemini-embedding-001")
    with pytest.raises(AllProvidersFailed) as info:
        llm.embed("two", model="gemini-embedding-001")
    assert info.value.attempts[0].outcome is Outcome.NOT_ADMITTED
    clock.advance(61)
    assert llm.embed("three", model="gemini-embedding-001").provider == "gemini"
    assert len(sent(sim, "gemini")) == 2


def test_keys_rotate_across_embed_calls(make_manager: ManagerFactory, sim: Any) -> None:
    keys = {**SIM_KEYS, "OPENAI_API_KEY_2": "sk-proj-test_openai_key_0006"}
    llm = make_manager(keys=keys)
    for text in ("a", "b"):
        llm.embed(text, model="text-embedding-3-large")
    assert {r["key"] for r in sent(sim, "openai")} == {"0005", "0006"}


def test_a_parameter_no_target_honours_is_a_400_and_nothing_is_sent(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    with pytest.raises(BadRequest, match="'dimensions' needs shorter vectors"):
        llm.embed("a", model="text-embedding-ada-002", dimensions=64)
    with pytest.raises(BadRequest, match=r"'input' needs token arrays.*openai/text-embedding-3-"):
        llm.embed([[1, 2, 3]], model="gemini-embedding-001")
    with pytest.raises(BadRequest, match="at most 100 inputs"):
        llm.embed(["x"] * 101, model="gemini-embedding-001")
    assert sent(sim, "openai") == [] and sent(sim, "gemini") == []
    assert llm.embed([[1, 2, 3]], model="text-embedding-3-small").provider in (
        "openrouter",
        "openai",
    )


def test_a_chat_model_or_unknown_name_names_the_embedding_models(
    make_manager: ManagerFactory,
) -> None:
    llm = make_manager()
    for name in ("gpt-4o-mini", "no-such-embedder"):
        with pytest.raises(ConfigError, match="embedding models: gemini-embedding-001"):
            llm.embed("a", model=name)
    with pytest.raises(ConfigError, match="is an embedding model, not a chat model"):
        llm.chat([{"role": "user", "content": "hi"}], model="text-embedding-3-small")


async def test_aembed_is_the_async_twin_with_failover(
    make_manager: ManagerFactory, sim: Any, tmp_path: Path
) -> None:
    async with make_manager(state=f"sqlite:///{tmp_path / 'state.db'}") as llm:
        sim.set_fault("openrouter", {"kind": "status", "status": 429, "count": 1})
        result = await llm.aembed(["x", "y"], model="openai/text-embedding-3-small")
        assert outcomes(result) == [("openrouter", "rate_limited"), ("openai", "ok")]
        assert len(result.vectors) == 2 and result.dimensions == 1536
        assert llm.get_usage()["providers"]["openai"]["requests"] == 1


def test_an_operator_resets_a_cooling_embedding_target(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("openrouter", {"kind": "status", "status": 503, "count": 1})
    llm.embed("a", model="text-embedding-3-small")  # OpenRouter's copy cools down
    cooling = llm.embed("b", model="text-embedding-3-small")
    assert outcomes(cooling)[0] == ("openrouter", "cooling_down")
    models = llm.get_provider_status()["providers"]["openrouter"]["models"]
    assert models["openai/text-embedding-3-small"]["circuit"] == "open"  # the status shows it
    assert models["meta-llama/llama-3.3-70b-instruct:free"]["circuit"] == "closed"
    target = "openrouter/openai/text-embedding-3-small"
    assert llm.reset_circuit(target) == ["model:openrouter/openai/text-embedding-3-small"]
    assert llm.embed("c", model="text-embedding-3-small").provider == "openrouter"
    with pytest.raises(ConfigError, match=r"its models: .*qwen/qwen3-embedding-0\.6b"):
        llm.reset_circuit("openrouter/no-such-model")


def test_an_embedding_limit_cools_the_model_not_the_key_chat_uses(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("gemini", {"kind": "status", "status": 429, "count": 1})
    with pytest.raises(AllProvidersFailed) as info:
        llm.embed("index me", model="gemini-embedding-001")
    assert [a.outcome for a in info.value.attempts] == [Outcome.RATE_LIMITED]
    chat = llm.chat([{"role": "user", "content": "hi"}], model="gemini-3.6-flash")
    assert outcomes(chat) == [("gemini", "ok")]  # the key still serves chat
    with pytest.raises(AllProvidersFailed) as again:
        llm.embed("index me", model="gemini-embedding-001")
    assert [a.outcome for a in again.value.attempts] == [Outcome.COOLING_DOWN]
