"""``_availability.decide``: the one answer to "can this key take a call now?", as a table.

Admission, the status, ``current_provider`` and the alerts all ask it, so each row is a promise
that admission skips the key for that reason and the status says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch._availability import Budget, decide
from llmswitch._health import HealthRecord
from llmswitch._types import Outcome

NOW = 1_000.0
OPEN = HealthRecord(open_until=NOW + 60, consecutive_failures=1)
HALF_OPEN = HealthRecord(open_until=NOW - 1, consecutive_failures=1)
ONE_FAILURE = HealthRecord(open_until=NOW + 60, consecutive_failures=1)
REFUSED = HealthRecord(auth_failed_fingerprint="fp-now")
REFUSED_OLD_VALUE = HealthRecord(auth_failed_fingerprint="fp-before")


def ask(**facts: Any) -> Any:
    base: dict[str, Any] = {
        "now": NOW,
        "model": "m",
        "provider_health": None,
        "model_health": None,
        "key_health": None,
        "fingerprint": "fp-now",
    }
    return decide(**(base | facts))


@pytest.mark.parametrize(
    ("facts", "refusals", "probe"),
    [
        ({}, [], None),
        ({"provider_health": OPEN}, [Outcome.COOLING_DOWN], None),
        ({"model_health": OPEN}, [Outcome.COOLING_DOWN], None),
        ({"provider_health": HALF_OPEN}, [], "provider"),
        ({"model_health": HALF_OPEN}, [], "model"),
        ({"provider_health": HALF_OPEN, "model_health": HALF_OPEN}, [], "provider"),
        # a half-open provider with an open model: refused, and no probe to win
        ({"provider_health": HALF_OPEN, "model_health": OPEN}, [Outcome.COOLING_DOWN], None),
        # below the breaker's threshold a failure does not open the circuit
        ({"provider_health": ONE_FAILURE, "failures_to_trip": 2}, [], None),
        ({"key_health": REFUSED}, [Outcome.KEY_REFUSED], None),
        ({"key_health": REFUSED_OLD_VALUE}, [], None),  # the key's value changed since
        ({"no_room": True}, [Outcome.NOT_ADMITTED], None),
        # every reason, in the order admission meets them
        (
            {
                "provider_health": OPEN,
                "model_health": OPEN,
                "key_health": REFUSED,
                "budget": Budget(1.0, 1.0, resets_at=NOW + 10),
                "no_room": True,
            },
            [
                Outcome.COOLING_DOWN,
                Outcome.COOLING_DOWN,
                Outcome.KEY_REFUSED,
                Outcome.BUDGET,
                Outcome.NOT_ADMITTED,
            ],
            None,
        ),
    ],
)
def test_decide(facts: dict[str, Any], refusals: list[Outcome], probe: str | None) -> None:
    got = ask(**facts)
    assert [o for o, _, _ in got.refusals] == refusals
    assert got.available is (not refusals)
    assert got.probe == probe


@pytest.mark.parametrize(
    ("spent", "worst", "exhausted"),
    [
        (0.0, 0.0, False),
        (0.99, 0.0, False),
        (1.0, 0.0, True),  # a report: spent is the whole budget
        (0.5, 0.5, False),  # exactly the budget: it fits
        (0.5, 0.51, True),  # the worst case would pass it
        (1.2, 0.0, True),
    ],
)
def test_a_budget_refuses_when_spent_or_when_the_worst_case_would_pass_it(
    spent: float, worst: float, exhausted: bool
) -> None:
    budget = Budget(1.0, spent, resets_at=NOW + 3600, worst_usd=worst)
    assert budget.exhausted is exhausted
    got = ask(budget=budget)
    assert got.refused_for(Outcome.BUDGET) is exhausted
    if exhausted:
        assert got.until == NOW + 3600, "the wait ends with the budget's day"


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"provider_health": OPEN}, "cooling down"),
        ({"model_health": OPEN}, "model m cooling down"),
        ({"key_health": REFUSED}, "key refused by the provider"),
        ({"budget": Budget(1.0, 1.0, resets_at=NOW)}, "daily budget reached"),
        ({"no_room": True}, "a limit is reached"),
    ],
)
def test_each_refusal_says_why_in_words_the_attempt_shows(
    facts: dict[str, Any], reason: str
) -> None:
    assert ask(**facts).reason == reason


def test_the_first_refusal_is_the_reason_and_its_end_the_wait() -> None:
    got = ask(model_health=OPEN, no_room=True, no_room_until=NOW + 5)
    assert (got.refusal, got.reason, got.until) == (
        Outcome.COOLING_DOWN,
        "model m cooling down",
        NOW + 60,
    )
    room = ask(no_room=True, no_room_until=NOW + 5, no_room_reason="rpm limit reached")
    assert (room.refusal, room.reason, room.until) == (
        Outcome.NOT_ADMITTED,
        "rpm limit reached",
        NOW + 5,
    )


def test_outcomes_name_every_failure_kind_and_keep_skips_apart() -> None:
    from llmswitch._types import Attempt, FailureKind

    for kind in FailureKind:
        outcome = Outcome.of(kind)
        assert outcome.value == kind.value
        assert outcome.failed and not outcome.skipped
    skips = {o for o in Outcome if o.skipped}
    assert skips == {
        Outcome.NOT_ADMITTED,
        Outcome.COOLING_DOWN,
        Outcome.BUDGET,
        Outcome.STATE_UNAVAILABLE,
        Outcome.CANNOT_CONTINUE,
        Outcome.KEY_REFUSED,
        Outcome.CONTEXT_TOO_SMALL,
        Outcome.CANNOT_HONOUR,  # issue 15: a parameter the model cannot honour (capabilities)
    }
    assert not {s.value for s in skips} & {k.value for k in FailureKind}, "no word means both"
    assert not Outcome.OK.failed and not Outcome.OK.skipped and Outcome.OK.sent
    local = Outcome.LOCAL_FAULT
    assert (local.sent, local.failed, local.skipped) == (False, False, False), "ours, not theirs"
    assert Attempt("p", "m", "k", Outcome.OK).sent
    assert not Attempt("p", "m", "k", Outcome.BUDGET).sent
