"""bench/economics.py on the suite's clock: one busy hour with and without patience, one day.

The day is the issue's target (free capacity used, no avoidable paid call, the budget on every
budget day); the hour shows the checker sees what ``free_wait_seconds = 0`` gives away, so the
day's zero is not a checker that cannot count.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import economics


@pytest.fixture(scope="module")
def busy_hour() -> dict[float, dict[str, Any]]:
    return {wait: economics.run("waves", "priority", wait, hours=(8, 9)) for wait in (0.0, 5.0)}


def test_without_patience_paid_calls_a_free_slot_would_have_served(
    busy_hour: dict[float, dict[str, Any]],
) -> None:
    seed = busy_hour[0.0]
    assert seed["paid_calls"] > 0
    assert seed["paid_free_within_default_wait"] > 0  # the checker counts what waiting saves


def test_patience_buys_fewer_calls_and_none_a_free_slot_could_serve(
    busy_hour: dict[float, dict[str, Any]],
) -> None:
    seed, patient = busy_hour[0.0], busy_hour[5.0]
    assert patient["paid_avoidable"] == 0
    assert patient["paid_calls"] < seed["paid_calls"]
    assert patient["calls"] == seed["calls"]
    assert patient["upstream_429"] == {}


def test_a_whole_day_uses_the_free_capacity_and_keeps_every_budget_day() -> None:
    day = economics.run("waves", "priority", 5.0)
    assert day["free_used_overall"] >= 0.99
    assert day["paid_avoidable"] == 0
    assert len(day["spend_by_budget_day"]) == 2  # a Pacific day holds two UTC budget days
    assert day["over_budget_days"] == []
    assert all(v <= day["budget_usd"] for v in day["spend_by_budget_day"].values())
    assert "budget" in day["errors"]  # demand beyond free + budget is refused, not bought
    assert sum(day["upstream_429"].values()) <= 1  # Gemini's undeclared day, learned once
