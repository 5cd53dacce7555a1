"""Admission's two daily caps, through a real manager and the simulator.

Budget: a paid provider with ``daily_budget_usd`` takes a call only while what it spent today
(UTC) plus the call's worst-case cost stays within the budget; then the call goes elsewhere, or
fails with ``budget`` when nothing else can take it.

Soft limit: ``daily_soft_limit`` leaves a key once a daily window is that full (minute windows are
never capped), per key.

Arithmetic of the budget rows: the message ``"hi"`` with ``max_tokens=16`` is estimated at
8 + 16 = 24 tokens and served as 7 + 16 = 23 (the simulator's count); at $1000 per 1M tokens in
and out a call costs $0.023 and its worst case is $0.024.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch import AllProvidersFailed
from llmswitch._clock import FakeClock
from llmswitch._quota import next_day_start
from tests.conftest import sent_429
from tests.glue.conftest import GROQ_KEYS, GlueFactory, ask, keys_for

PRICES = '\n[providers.openai.prices]\n"gpt-4o-mini" = [1000.0, 1000.0]\n'


def paid(glue: GlueFactory, budget: float, *keyed: str, prices: str = PRICES) -> Any:
    return glue(
        keys=keys_for("openai", *keyed),
        providers={"openai": {"priority": 1, "daily_budget_usd": budget}},
        tail=prices,
    )


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        # spent before each call: 0, .023, .046, .069, .092; +.024 must stay within the budget
        pytest.param(0.1, ["openai"] * 4 + ["together"] * 2, id="fourth-call-fits-fifth-not"),
        pytest.param(0.05, ["openai"] * 2 + ["together"] * 2, id="third-would-cross"),
        pytest.param(0.02, ["together"] * 2, id="worst-case-alone-too-dear"),
        pytest.param(0.0, ["openai"] * 6, id="zero-means-no-cap"),
    ],
)
def test_a_paid_provider_takes_calls_until_its_budget_would_be_crossed(
    glue: GlueFactory, budget: float, expected: list[str]
) -> None:
    llm = paid(glue, budget, "together")
    results = [ask(llm) for _ in expected]
    assert [r.provider for r in results] == expected
    spent = llm.get_usage()["providers"].get("openai", {}).get("cost_usd", 0.0)
    assert spent == pytest.approx(0.023 * expected.count("openai"))
    if budget:
        assert spent <= budget
    if "together" in expected and budget:
        skipped = results[expected.index("together")].attempts[0]
        assert (skipped.provider, skipped.outcome) == ("openai", "budget")


def test_the_worst_case_decides_so_a_big_call_is_refused_while_a_small_one_fits(
    glue: GlueFactory,
) -> None:
    llm = paid(glue, 0.1, "together")
    assert [ask(llm).provider for _ in range(3)] == ["openai"] * 3  # spent .069
    assert ask(llm, max_tokens=100).provider == "together"  # .069 + .108 > .1
    assert ask(llm).provider == "openai"  # .069 + .024 <= .1


def test_over_budget_with_nothing_else_fails_and_says_when_the_budget_renews(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    llm = paid(glue, 0.05)
    assert [ask(llm).provider for _ in range(2)] == ["openai"] * 2
    sent = len(sim.requests("openai"))
    with pytest.raises(AllProvidersFailed) as info:
        ask(llm)
    assert [a.outcome for a in info.value.attempts] == ["budget"]
    assert len(sim.requests("openai")) == sent, "a refused call is never sent"
    midnight = next_day_start(clock(), "utc")
    assert info.value.retry_at == pytest.approx(midnight)
    clock.advance(midnight - clock() - 1)
    with pytest.raises(AllProvidersFailed):
        ask(llm)
    clock.advance(2)
    assert ask(llm).provider == "openai", "a new UTC day, a new budget"


def test_a_call_whose_worst_case_output_alone_is_over_budget_is_never_sent(
    glue: GlueFactory,
) -> None:
    # Output at $4000/1M: 16 completion tokens may cost $0.064 > the $0.05 budget.
    prices = '\n[providers.openai.prices]\n"gpt-4o-mini" = [1000.0, 4000.0]\n'
    llm = paid(glue, 0.05, "together", prices=prices)
    assert ask(llm).provider == "together"
    assert llm.get_usage()["providers"].get("openai", {}).get("cost_usd", 0.0) <= 0.05


# -- daily_soft_limit ------------------------------------------------------------------------


def _groq_rpd(rpd: int) -> dict[str, Any]:
    return {"requests_per_day": rpd, "tokens_per_minute": 0, "tokens_per_day": 0}


@pytest.mark.parametrize(
    ("soft", "rpd", "groq_calls"),
    [
        pytest.param(1.0, 10, 10, id="1.0-uses-the-whole-day"),
        pytest.param(0.95, 10, 9, id="default-0.95-keeps-one-back"),
        pytest.param(0.5, 10, 5, id="half"),
        pytest.param(0.01, 10, 1, id="never-below-one-request"),
        pytest.param(0.5, 7, 3, id="rounds-down"),
    ],
)
def test_the_soft_limit_leaves_a_key_at_that_fraction_of_its_day(
    glue: GlueFactory, sim: Any, soft: float, rpd: int, groq_calls: int
) -> None:
    llm = glue(
        keys=keys_for("groq", "gemini"),
        providers={"groq": _groq_rpd(rpd)},
        extra=f"daily_soft_limit = {soft}",
    )
    served = [ask(llm, f"call {n}").provider for n in range(groq_calls + 2)]
    assert served == ["groq"] * groq_calls + ["gemini"] * 2
    assert sent_429(sim, "groq") == 0


def test_the_soft_limit_does_not_cap_minute_windows(glue: GlueFactory) -> None:
    groq = {"requests_per_minute": 4, "requests_per_day": 0, "tokens_per_day": 0}
    llm = glue(
        keys=keys_for("groq", "gemini"), providers={"groq": groq}, extra="daily_soft_limit = 0.5"
    )
    assert [ask(llm, f"call {n}").provider for n in range(5)] == ["groq"] * 4 + ["gemini"]


def test_the_soft_limit_applies_to_each_key_and_frees_with_the_rolling_day(
    glue: GlueFactory, clock: FakeClock
) -> None:
    llm = glue(
        keys=keys_for("gemini", **GROQ_KEYS),
        providers={"groq": _groq_rpd(4)},
        extra="daily_soft_limit = 0.5",
    )
    results = [ask(llm, f"call {n}") for n in range(7)]
    assert [r.provider for r in results] == ["groq"] * 6 + ["gemini"]  # 3 keys x 2
    assert {r.attempts[-1].key_alias for r in results[:6]} == set(GROQ_KEYS)
    clock.advance(86_400 + 1)
    assert ask(llm).provider == "groq"


def test_the_soft_limit_caps_tokens_per_day_by_the_reservation(glue: GlueFactory) -> None:
    groq = {"requests_per_day": 0, "tokens_per_minute": 0, "tokens_per_day": 1000}
    llm = glue(
        keys=keys_for("groq", "gemini"), providers={"groq": groq}, extra="daily_soft_limit = 0.5"
    )
    served = [ask(llm).provider for _ in range(30)]
    first_other = served.index("gemini")
    assert served[:first_other] == ["groq"] * first_other
    used = llm.get_provider_status()["providers"]["groq"]["windows"]["tpd"]["used"]
    # Every call reserves 24 tokens: groq stops once the next reservation would pass 500.
    assert 500 - 24 < used <= 500
