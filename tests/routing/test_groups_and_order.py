"""Groups, fallbacks, per-request chains and the order of tries, through a real manager and the
simulator (loopback HTTP, a shared FakeClock). Each row is what a user reads off ``ChatResult``:
who served, and who was tried before."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch import AllProvidersFailed, ConfigError
from tests.glue.conftest import GlueFactory, keys_for

ALL = ("groq", "gemini", "openrouter", "together", "openai")
GROUPS = """
[models.smart]
targets = ["groq/llama-3.3-70b-versatile", "gemini/gemini-2.5-pro", "openai/gpt-4o-mini"]
fallbacks = ["cheap"]

[models.cheap]
targets = ["openrouter/meta-llama/llama-3.3-70b-instruct:free", "together/openai/gpt-oss-120b"]
"""
HI = [{"role": "user", "content": "hi"}]


def tried(result: Any) -> list[str]:
    return [f"{a.provider}:{a.outcome}" for a in result.attempts]


def down(sim: Any, *providers: str) -> None:
    for name in providers:
        sim.set_fault(name, {"kind": "status", "status": 503})


@pytest.fixture()
def llm(glue: GlueFactory) -> Any:
    return glue(keys=keys_for(*ALL), tail=GROUPS)


def test_a_group_is_served_by_its_first_target_under_the_targets_own_id(llm: Any) -> None:
    result = llm.chat(HI, model="smart")
    assert (result.provider, result.model) == ("groq", "openai/gpt-oss-120b")


def test_a_group_fails_over_along_its_targets_in_order(llm: Any, sim: Any) -> None:
    down(sim, "groq")
    result = llm.chat(HI, model="smart")
    assert (result.provider, result.model) == ("gemini", "gemini-2.5-pro")
    assert tried(result) == ["groq:server_error", "gemini:ok"]


def test_when_every_target_refuses_the_fallback_group_serves(llm: Any, sim: Any) -> None:
    down(sim, "groq", "gemini", "openai")
    result = llm.chat(HI, model="smart")
    assert result.provider == "openrouter"
    assert tried(result) == [
        "groq:server_error",
        "gemini:server_error",
        "openai:server_error",
        "openrouter:ok",
    ]


def test_a_model_id_fails_over_to_every_provider_that_serves_it(llm: Any, sim: Any) -> None:
    down(sim, "groq")
    result = llm.chat(HI, model="openai/gpt-oss-120b")
    assert (result.provider, result.model) == ("together", "openai/gpt-oss-120b")


def test_a_pinned_name_stays_on_its_provider(llm: Any, sim: Any) -> None:
    down(sim, "groq")
    with pytest.raises(AllProvidersFailed) as info:
        llm.chat(HI, model="groq/openai/gpt-oss-120b")
    assert {a.provider for a in info.value.attempts} == {"groq"}


def test_openrouters_models_list_is_a_chain_of_names(llm: Any, sim: Any) -> None:
    down(sim, "groq")
    result = llm.chat(HI, models=["groq/openai/gpt-oss-20b", "gemini-2.5-pro", "cheap"])
    assert (result.provider, result.model) == ("gemini", "gemini-2.5-pro")
    assert tried(result) == ["groq:server_error", "gemini:ok"]


@pytest.mark.parametrize(
    ("prefs", "first"),
    [
        ({"order": ["together", "gemini"]}, ["together"]),
        ({"only": ["openrouter", "together"]}, ["openrouter"]),
        ({"ignore": ["groq", "gemini"]}, ["openrouter"]),
    ],
)
def test_openrouters_provider_object_filters_and_orders(
    llm: Any, prefs: dict[str, Any], first: list[str]
) -> None:
    assert [llm.chat(HI, provider=prefs).provider] == first


def test_without_fallbacks_only_the_ordered_providers_are_tried(llm: Any, sim: Any) -> None:
    down(sim, "gemini")
    with pytest.raises(AllProvidersFailed) as info:
        llm.chat(HI, provider={"order": ["gemini"], "allow_fallbacks": False})
    assert [a.provider for a in info.value.attempts] == ["gemini"]
    assert llm.chat(HI, provider={"order": ["gemini"]}).provider != "gemini", "with fallbacks"


def test_an_unknown_provider_or_field_in_the_preferences_is_named(llm: Any) -> None:
    with pytest.raises(ConfigError, match="unknown provider 'grok'; configured providers: groq"):
        llm.chat(HI, provider={"order": ["grok"]})
    with pytest.raises(ConfigError, match=r"provider\.sort: unknown field"):
        llm.chat(HI, provider={"sort": "price"})


# -- the order of tries: paid_last, LLM_PROVIDER, provider_name, strict ---------------------------

PAID_FIRST = {"openai": {"priority": 1}, "groq": {"priority": 6}}


@pytest.mark.parametrize(
    ("extra", "first"),
    [
        ("", "gemini"),  # paid_last (the default): a priority-1 paid provider still waits
        ("paid_last = true", "gemini"),
        ("paid_last = false", "openai"),  # priority alone decides
    ],
)
def test_paid_last_decides_whether_a_paid_priority_one_goes_first(
    glue: GlueFactory, extra: str, first: str
) -> None:
    llm = glue(keys=keys_for(*ALL), extra=extra, providers=PAID_FIRST)
    assert llm.chat(HI).provider == first


def test_a_named_provider_goes_first_whatever_its_tier(glue: GlueFactory, sim: Any) -> None:
    llm = glue(keys=keys_for(*ALL))
    assert llm.chat(HI, provider_name="openai").provider == "openai"
    assert llm.chat(HI, provider_name="together").provider == "together"
    down(sim, "together")
    result = llm.chat(HI, provider_name="together")
    assert tried(result)[:2] == ["together:server_error", "groq:ok"], "others stay as backups"


def test_llm_provider_names_the_first_provider_even_a_paid_one(glue: GlueFactory) -> None:
    llm = glue(keys={**keys_for(*ALL), "LLM_PROVIDER": "openai"})
    assert llm.chat(HI).provider == "openai"
    assert llm.get_provider_status()["order"][0] == "openai"


def test_strict_allows_only_the_named_provider_and_fails_with_the_real_reason(
    glue: GlueFactory, sim: Any
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"))
    with pytest.raises(ConfigError, match="strict: provider 'together' has no API key; set TOGE"):
        llm.chat(HI, provider_name="together", strict=True)
    with pytest.raises(ConfigError, match="strict: provider 'gemini' does not serve 'gpt-4o-mini'"):
        llm.chat(HI, model="gpt-4o-mini", provider_name="gemini", strict=True)
    down(sim, "gemini")
    with pytest.raises(AllProvidersFailed) as info:
        llm.chat(HI, provider_name="gemini", strict=True)
    assert [a.provider for a in info.value.attempts] == ["gemini"]


def test_a_model_only_keyless_providers_serve_names_the_key_to_set(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for("groq"))
    with pytest.raises(ConfigError, match=r"serves 'gpt-4o-mini'.*openai \(set OPENAI_API_KEY\)"):
        llm.chat(HI, model="gpt-4o-mini")


def test_the_status_shows_the_effective_order(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for(*ALL), providers=PAID_FIRST)
    # groq is priority 6 here; openai (1) and together (4) are paid, so they wait for the
    # free ones while paid_last holds, then go by priority
    status = llm.get_provider_status()
    assert status["order"] == ["gemini", "openrouter", "groq", "openai", "together"]
    assert status["providers"]["openai"]["priority"] == 1


@pytest.mark.parametrize("bad", ["smart", [1], [""], [None]])
def test_a_models_list_of_anything_but_names_is_refused(llm: Any, bad: Any) -> None:
    with pytest.raises(ConfigError, match="models must be a list of model names"):
        llm.chat(HI, models=bad)


# -- plan tables the mutation run asked for ---------------------------------------------------


def plan_of(llm: Any, model: str | None = None, **kwargs: Any) -> list[str]:
    return [c.target for c in llm.planner.plan(model, **kwargs)]


def test_a_groups_listed_order_beats_provider_priority(glue: GlueFactory) -> None:
    llm = glue(
        keys=keys_for(*ALL),
        tail='[models.backwards]\ntargets = ["openrouter/deepseek/deepseek-r1-0528", '
        '"gemini/gemini-2.5-pro", "groq/openai/gpt-oss-20b"]\n',
    )
    assert plan_of(llm, "backwards") == [
        "openrouter/deepseek/deepseek-r1-0528",
        "gemini/gemini-2.5-pro",
        "groq/openai/gpt-oss-20b",
    ]


def test_a_target_reached_twice_is_tried_once(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for(*ALL))
    chain = plan_of(llm, models=["groq/openai/gpt-oss-120b", "openai/gpt-oss-120b", "auto"])
    assert chain.count("groq/openai/gpt-oss-120b") == 1
    assert chain[:2] == ["groq/openai/gpt-oss-120b", "together/openai/gpt-oss-120b"]


def test_a_named_provider_moves_first_and_appears_once(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for(*ALL))
    chain = plan_of(llm, provider_name="together")
    assert chain[0].startswith("together/") and sum(t.startswith("together/") for t in chain) == 1


def test_a_model_without_a_known_context_window_is_never_skipped_for_size(
    glue: GlueFactory, sim: Any
) -> None:
    llm = glue(keys=keys_for("groq"), providers={"groq": {"models": ["some-new-model"]}})
    [candidate] = llm.planner.plan("some-new-model")
    assert candidate.context_window == 0, "unknown"
    with pytest.raises(AllProvidersFailed) as info:  # the simulator does not serve it
        llm.chat(HI, model="some-new-model", max_tokens=500_000)
    assert info.value.attempts[0].outcome != "context_too_small"


def test_strict_on_a_disabled_provider_says_so(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"gemini": {"enabled": False}})
    with pytest.raises(ConfigError, match=r"^strict: provider 'gemini' is disabled"):
        llm.chat(HI, provider_name="gemini", strict=True)
