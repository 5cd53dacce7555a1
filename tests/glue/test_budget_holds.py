"""Budgets that hold: a real manager, the simulator over loopback HTTP, a shared FakeClock.

A paid provider's ``daily_budget_usd`` is held by admission in the store: each call reserves its
worst case (prompt at the input price, completion at the output price) atomically with the key's
windows, and settles it to the real cost. Concurrent callers therefore never spend together more
than the budget (the old read-then-compare spent $0.0192 of $0.01 at 16 callers).

Arithmetic: ``"hi"`` with ``max_tokens=16`` is estimated at 8 prompt + 16 completion tokens and
served as 7 + 16. At $10 / $40 per 1M tokens a call costs 7 x 10 + 16 x 40 = 710 micro-dollars
and its worst case is 8 x 10 + 16 x 40 = 720 (960 with every token at the output price, when the
prompt's share is not known).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from llmswitch import AllProvidersFailed, LLMProviderManager
from llmswitch._clock import FakeClock
from llmswitch._quota import next_day_start
from tests.glue.conftest import GlueFactory, ask, keys_for

PRICES = '\n[providers.openai.prices]\n"gpt-4o-mini" = [10.0, 40.0]\n'
CALL_USD = 0.00071
#: openai's windows off: the budget is the one limit these tests meet
NO_WINDOWS = {"requests_per_minute": 0, "tokens_per_minute": 0, "tokens_per_day": 0}


def budgeted(glue: GlueFactory, budget: float, *keyed: str, **own: Any) -> LLMProviderManager:
    openai = {"priority": 1, "daily_budget_usd": budget, **NO_WINDOWS, **own}
    return glue(keys=keys_for("openai", *keyed), providers={"openai": openai}, tail=PRICES)


def spent(llm: LLMProviderManager) -> float:
    cost: float = llm.get_usage()["providers"].get("openai", {}).get("cost_usd", 0.0)
    return cost


def concurrently(llm: LLMProviderManager, callers: int) -> tuple[list[str], list[list[str]]]:
    """``callers`` threads, one call each, released at once: who served, and each failure's
    attempt outcomes."""
    start = threading.Barrier(callers)
    served: list[str] = []
    failed: list[list[str]] = []

    def caller() -> None:
        start.wait()
        try:
            served.append(ask(llm).provider)
        except AllProvidersFailed as exc:
            failed.append([a.outcome for a in exc.attempts])

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return served, failed


def test_64_concurrent_callers_never_spend_more_than_the_budget(glue: GlueFactory) -> None:
    llm = budgeted(glue, 0.01)
    served, failed = concurrently(llm, 64)
    assert spent(llm) <= 0.01
    # at least 10 worst cases (9,600 at 960; 13 at 720) fit at once; settled at 710 each,
    # calls give room back to the later ones
    assert len(served) >= 10
    assert spent(llm) == pytest.approx(CALL_USD * len(served))
    assert len(served) + len(failed) == 64
    assert all(outcomes == ["budget"] for outcomes in failed)


def test_the_budget_counts_the_real_cost_once_a_call_is_settled(glue: GlueFactory) -> None:
    llm = budgeted(glue, 0.01)
    ask(llm)
    budget = llm.get_provider_status()["providers"]["openai"]["budget"]
    assert budget["used_usd"] == pytest.approx(CALL_USD)  # not the worst case of 720
    assert budget["limit_usd"] == pytest.approx(0.01)
    assert budget["day"] == "utc"


def test_the_status_shows_the_budgets_own_day(glue: GlueFactory, clock: FakeClock) -> None:
    llm = budgeted(glue, 0.01, budget_resets="America/Los_Angeles")
    budget = llm.get_provider_status()["providers"]["openai"]["budget"]
    assert budget["day"] == "America/Los_Angeles"
    assert budget["resets_at"] == next_day_start(clock(), "America/Los_Angeles")
    assert budget["used_usd"] == 0.0


def test_a_free_provider_has_no_budget_in_the_status(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for("groq"))
    assert llm.get_provider_status()["providers"]["groq"]["budget"] is None


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "utc"])
def test_a_budget_renews_at_the_midnight_of_its_own_day(
    glue: GlueFactory, clock: FakeClock, zone: str
) -> None:
    # two calls (1,420) fit, a third worst case (720, or 960 unsplit) does not
    llm = budgeted(glue, 0.002, budget_resets=zone)
    assert [ask(llm).provider for _ in range(2)] == ["openai"] * 2
    with pytest.raises(AllProvidersFailed) as info:
        ask(llm)
    midnight = next_day_start(clock(), zone)
    assert info.value.retry_at == pytest.approx(midnight)
    clock.advance(midnight - clock() - 1)
    with pytest.raises(AllProvidersFailed):
        ask(llm)
    clock.advance(2)
    assert ask(llm).provider == "openai", f"a new {zone} day, a new budget"


def test_a_rolling_budget_frees_a_day_after_each_call(glue: GlueFactory, clock: FakeClock) -> None:
    llm = budgeted(glue, 0.002, budget_resets="rolling")
    ask(llm)
    clock.advance(3600)
    ask(llm)
    with pytest.raises(AllProvidersFailed):
        ask(llm)
    clock.advance(86_400 - 3600 + 1)
    assert ask(llm).provider == "openai"


def test_budget_resets_must_be_a_known_day(glue: GlueFactory) -> None:
    from llmswitch import ConfigError

    with pytest.raises(ConfigError, match="budget_resets"):
        budgeted(glue, 0.01, budget_resets="Mars/Olympus")
