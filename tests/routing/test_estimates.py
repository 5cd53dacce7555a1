"""What admission reserves for a call's reply: the caller's cap (the larger of ``max_tokens`` and
``max_completion_tokens``, times ``n``), else ``estimate_completion_tokens`` (1024 by default,
per provider or global), settled to the real usage afterwards. Groq gets a 3,000 tokens-a-minute
window here, so a reservation above it is refused on Groq and served by Gemini."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch import AllProvidersFailed, ContextTooLong, ProviderError
from tests.glue.conftest import GlueFactory, keys_for

HI = [{"role": "user", "content": "hi"}]  # estimated at 8 prompt tokens


def served(llm: Any, **params: Any) -> tuple[str, str]:
    """The first attempt (Groq's) and what became of it: served ("ok") or ``not_admitted``.
    Where Groq is refused the call goes on to Gemini, which may itself refuse ``n > 1``: only
    Groq's admission is the subject here."""
    try:
        attempts = llm.chat(HI, **params).attempts
    except (ProviderError, AllProvidersFailed) as err:
        attempts = err.attempts
    return attempts[0].provider, attempts[0].outcome


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_tokens": 2900}, ("groq", "ok")),  # 8 + 2900 fits 3000
        ({"max_tokens": 3000}, ("groq", "not_admitted")),  # 3008 does not
        # the larger of the two caps counts, whichever field carries it
        ({"max_tokens": 1, "max_completion_tokens": 3000}, ("groq", "not_admitted")),
        ({"max_tokens": 3000, "max_completion_tokens": 1}, ("groq", "not_admitted")),
        # Groq serves only n = 1: a request for 3 choices never reaches its admission
        ({"max_tokens": 1000, "n": 3}, ("groq", "cannot_honour")),
        # no cap: the estimate (1024 per choice)
        ({}, ("groq", "ok")),
    ],
)
def test_the_reservation_follows_the_request(
    glue: GlueFactory, params: dict[str, Any], expected: tuple[str, str]
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": {"tokens_per_minute": 3000}})
    assert served(llm, **params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_tokens": 1000, "n": 3}, ("openai", "not_admitted")),  # 8 + 3 x 1000 > 3000
        ({"max_tokens": 900, "n": 3}, ("openai", "ok")),  # 8 + 3 x 900 fits
        ({"n": 3}, ("openai", "not_admitted")),  # no cap: 8 + 3 x 1024
    ],
)
def test_n_choices_each_reserve_the_cap_on_a_model_that_serves_n(
    glue: GlueFactory, params: dict[str, Any], expected: tuple[str, str]
) -> None:
    """n choices may each use the cap (1008 alone would fit): on a model that serves n > 1."""
    llm = glue(keys=keys_for("openai", "gemini"), providers={"openai": {"tokens_per_minute": 3000}})
    assert served(llm, provider_name="openai", **params) == expected


@pytest.mark.parametrize(
    ("extra", "providers", "expected"),
    [
        ("", {}, ("groq", "not_admitted")),  # 8 + 1024 > 1000
        ("estimate_completion_tokens = 100", {}, ("groq", "ok")),
        ("", {"estimate_completion_tokens": 100}, ("groq", "ok")),
        (
            "estimate_completion_tokens = 100",
            {"estimate_completion_tokens": 2000},
            ("groq", "not_admitted"),
        ),
    ],
)
def test_the_estimate_without_a_cap_is_configurable_globally_and_per_provider(
    glue: GlueFactory, extra: str, providers: dict[str, Any], expected: tuple[str, str]
) -> None:
    groq = {"tokens_per_minute": 1000, **providers}
    llm = glue(keys=keys_for("groq", "gemini"), extra=extra, providers={"groq": groq})
    assert served(llm) == expected


def test_uncapped_calls_settle_to_what_they_used_so_the_window_refills(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": {"tokens_per_minute": 3000}})
    # each reserves 8 + 1024 but settles to the simulator's ~20 tokens: far more than 2 fit
    assert [served(llm)[0] for _ in range(10)] == ["groq"] * 10


def test_a_cap_above_one_models_context_window_skips_it(glue: GlueFactory, sim: Any) -> None:
    llm = glue(keys=keys_for("groq", "gemini"))
    result = llm.chat(HI, max_tokens=200_000)  # groq's window is 131,072, gemini's 1,048,576
    assert result.provider == "gemini"
    skip = result.attempts[0]
    assert (skip.provider, skip.outcome, skip.sent) == ("groq", "context_too_small", False)
    assert "131072" in skip.message
    assert sim.requests("groq") == []


def test_a_cap_above_every_context_window_is_a_bad_request_naming_them(
    glue: GlueFactory, sim: Any
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"))
    with pytest.raises(ContextTooLong) as info:
        llm.chat(HI, max_completion_tokens=2_000_000)
    message = str(info.value)
    assert "max_tokens 2000000" in message and "groq/openai/gpt-oss-120b: 131072" in message
    assert "gemini/gemini-3.6-flash: 1048576" in message and "ask for fewer tokens" in message
    assert sim.requests("groq") == [] and sim.requests("gemini") == []
