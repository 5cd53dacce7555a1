"""The status says what admission does, in the seed's words: ``available`` when a provider can
take a call, else why not (``reason``) and until when (``available_at``); "today" is the
provider's own day; money spent and saved at the top. Through a real manager and the simulator
on a FakeClock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._quota import next_day_start, provider_scope
from tests.glue.conftest import GlueFactory, ask, keys_for
from tests.glue.test_admission_limits import paid


def groq(llm: Any) -> dict[str, Any]:
    return llm.get_provider_status()["providers"]["groq"]


def test_a_provider_that_can_take_a_call_is_available_with_no_reason(glue: GlueFactory) -> None:
    llm = glue(keys=keys_for("groq"))
    row = groq(llm)
    assert (row["status"], row["reason"], row["available_at"]) == ("available", None, None)
    assert row["keys"][0]["status"] == "available"


def test_at_the_daily_soft_limit_the_reason_says_traffic_left_for_the_day(
    glue: GlueFactory,
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": {"requests_per_day": 20}})
    assert [ask(llm).provider for _ in range(20)][-1] == "gemini"  # 19 of 20 at 95%
    row = groq(llm)
    assert (row["status"], row["reason"]) == ("rate_limited", "day_soft_limit")
    assert row["available_at"] is not None and row["available_at"] > 0
    assert row["keys"][0]["reason"] == "day_soft_limit"


def test_a_full_minute_says_minute_full_and_when_it_frees(
    glue: GlueFactory, clock: FakeClock
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": {"requests_per_minute": 2}})
    assert [ask(llm).provider for _ in range(3)] == ["groq", "groq", "gemini"]
    row = groq(llm)
    assert (row["status"], row["reason"]) == ("rate_limited", "minute_full")
    assert clock() < row["available_at"] <= clock() + 61


def test_cooling_down_and_no_key_and_budget_are_named(glue: GlueFactory, clock: FakeClock) -> None:
    llm = glue(keys=keys_for("groq", "gemini"))
    llm.store.trip(
        provider_scope("groq"), until=clock() + 300, kind="server_error", message="503", now=clock()
    )
    status = llm.get_provider_status()["providers"]
    assert (status["groq"]["reason"], status["groq"]["available_at"]) == (
        "cooling_down",
        clock() + 300,
    )
    assert (status["openai"]["status"], status["openai"]["reason"]) == ("unavailable", "no_key")
    budgeted = paid(glue, 0.0001, "together")  # a smallest call costs more than the budget
    row = budgeted.get_provider_status()["providers"]["openai"]
    assert (row["status"], row["reason"]) == ("budget_exhausted", "budget")
    assert row["available_at"] == next_day_start(clock(), "utc")


def test_today_is_the_providers_own_day(glue: GlueFactory, clock: FakeClock) -> None:
    """Gemini's day ends at Pacific midnight: crossing UTC midnight at 16:30 Pacific resets
    nothing it counts by that day, its requests included (it declares its day in tokens only),
    and the status says which day each counter uses."""
    clock.set(dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC).timestamp())  # 16:30 Pacific
    llm = glue(keys=keys_for("gemini"))
    for _ in range(3):
        assert ask(llm).provider == "gemini"
    clock.advance(3600)  # 00:30 UTC the next day, 17:30 Pacific the same day
    row = llm.get_provider_status()["providers"]["gemini"]
    assert row["tokens_today"] > 0
    assert row["today"] == {"requests": "America/Los_Angeles", "tokens": "America/Los_Angeles"}
    assert row["requests_today"] == 3  # a new UTC day, the same Pacific day
    clock.advance(7 * 3600)  # 00:30 Pacific: Gemini's new day
    row = llm.get_provider_status()["providers"]["gemini"]
    assert (row["requests_today"], row["tokens_today"]) == (0, 0)
    groq = glue(keys=keys_for("groq")).get_provider_status()["providers"]["groq"]
    assert groq["today"] == {"requests": "last 24h (rolling)", "tokens": "last 24h (rolling)"}
    assert llm.get_usage("today")["providers"] == {}, "the ledger's own report stays by UTC day"


def test_money_spent_and_saved_today(glue: GlueFactory) -> None:
    llm = paid(glue, 1.0, "groq")  # openai priority 1 but paid: groq serves while it can
    free = ask(llm)
    assert free.provider == "groq"
    bought = llm.chat([{"role": "user", "content": "hi"}], max_tokens=16, provider_name="openai")
    status = llm.get_provider_status()
    price_in, price_out = 0.15, 0.60  # groq's list price of openai/gpt-oss-120b per 1M
    saved = (free.usage.prompt_tokens * price_in + free.usage.completion_tokens * price_out) / 1e6
    assert status["savings_today_usd"] == pytest.approx(saved, rel=1e-6)
    assert status["spent_today_usd"] == pytest.approx(bought.cost_usd, rel=1e-6)
    assert status["money_day"] == "utc"
    usage = llm.get_usage("today")
    assert usage["savings_usd"] == pytest.approx(saved, rel=1e-6)
    rows = {(r["provider"], r["model"]) for r in usage["by_model_and_key"]}
    assert rows == {("groq", "openai/gpt-oss-120b"), ("openai", "gpt-4o-mini")}


def test_a_token_day_too_full_for_a_call_without_max_tokens_is_not_available(
    glue: GlueFactory, clock: FakeClock
) -> None:
    """Admission reserves a call's worst case (the estimate of its reply without max_tokens):
    once a day of tokens cannot hold that any more, calls go elsewhere, and the status, the
    current provider and get_client say so instead of still naming Groq."""
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": {"tokens_per_day": 5000}})
    served = []
    for _ in range(300):
        served.append(llm.chat([{"role": "user", "content": "hi"}]).provider)
        clock.advance(2.5)  # under every minute window
    assert served[0] == "groq" and served[-1] == "gemini"
    assert served == sorted(served, reverse=True), "Groq until its day cannot hold a call"
    row = groq(llm)
    assert row["windows"]["tpd"]["used"] < 4750  # below the soft limit, yet too full for a call
    assert (row["status"], row["reason"]) == ("rate_limited", "day_soft_limit")
    assert llm.get_provider_status()["current_provider"] == "gemini"
    assert llm.get_client()[1] == "gemini-3.6-flash"
