"""A provider's daily budget, held by the store in the same atomic step as the key's windows.

Run over every backend (memory, sqlite, redis). A budget is a window of micro-dollars on the
provider's scope (``budget:<provider>``): ``reserve`` takes the call's worst case there with the
key's windows, all or nothing; ``settle_and_record`` replaces it by the entry's real cost;
``release`` gives it back. Time is a float passed as ``now``; nothing sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from llmswitch._ledger import entry
from llmswitch._quota import (
    BudgetClaim,
    budget_scope,
    budget_window,
    make_window,
    micro_usd,
    next_day_start,
)
from llmswitch._state.base import Store
from llmswitch._types import Usage

Reopen = Callable[[], Store]
T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z
KEY = "openai:OPENAI_API_KEY"
KEY2 = "openai:OPENAI_API_KEY_2"
BUDGET = budget_scope("openai")


def claim(usd: float, *, budget: float = 0.1, reset: str = "utc") -> BudgetClaim:
    return BudgetClaim(BUDGET, budget_window(budget, reset), micro_usd(usd))


def held(store: Store, *, now: float = T0, budget: float = 0.1, reset: str = "utc") -> int:
    """Micro-dollars the budget's day counts now (real costs settled plus claims held)."""
    return store.usage(BUDGET, [budget_window(budget, reset)], now=now)[0].used


def settle(store: Store, scope: str, rid: str, cost: float, *, now: float = T0) -> None:
    e = entry(
        ts=now,
        provider="openai",
        key_alias=scope.split(":")[1],
        model="gpt-4o-mini",
        outcome="ok",
        usage=Usage(7, 16),
        cost=cost,
        latency_s=0.1,
        free=False,
    )
    store.settle_and_record(scope, rid, 23, e, now=now)


def test_micro_dollars_round_so_the_budget_is_never_passed() -> None:
    assert micro_usd(0.023) == 23_000  # 0.023 * 1e6 is 22999.999999999996 in floats
    assert micro_usd(0.0000001) == 1  # a cost is never counted below what it is
    assert budget_window(0.0100009).limit == 10_000  # a limit never above the budget


class TestClaims:
    def test_claims_are_granted_until_the_next_worst_case_would_pass_the_budget(
        self, store: Store
    ) -> None:
        granted = [store.reserve(KEY, [], 24, now=T0, budget=claim(0.024)).ok for _ in range(5)]
        assert granted == [True, True, True, True, False]  # 4 x .024 = .096; .12 > .1
        assert held(store) == 96_000

    def test_a_refusal_names_the_budget_and_its_next_day(self, store: Store) -> None:
        assert store.reserve(KEY, [], 24, now=T0, budget=claim(0.06)).ok
        refused = store.reserve(KEY, [], 24, now=T0, budget=claim(0.06))
        assert (refused.ok, refused.window) == (False, "budget")
        assert refused.retry_at == next_day_start(T0, "utc")
        assert "budget" in refused.reason

    def test_a_worst_case_above_the_whole_budget_never_fits(self, store: Store) -> None:
        refused = store.reserve(KEY, [], 24, now=T0, budget=claim(0.2))
        assert (refused.window, refused.retry_at) == ("budget", None)
        assert held(store) == 0

    def test_every_key_of_the_provider_shares_one_budget(self, store: Store) -> None:
        assert store.reserve(KEY, [], 24, now=T0, budget=claim(0.06)).ok
        assert not store.reserve(KEY2, [], 24, now=T0, budget=claim(0.06)).ok

    def test_settling_replaces_the_worst_case_by_the_real_cost(self, store: Store) -> None:
        adm = store.reserve(KEY, [], 24, now=T0, budget=claim(0.064))
        assert not store.reserve(KEY2, [], 24, now=T0, budget=claim(0.064)).ok
        settle(store, KEY, adm.reservation_id, 0.023)
        assert held(store) == 23_000
        assert store.reserve(KEY2, [], 24, now=T0, budget=claim(0.064)).ok  # .023 + .064

    def test_a_settle_replayed_sets_the_same_cost_again(self, store: Store) -> None:
        adm = store.reserve(KEY, [], 24, now=T0, budget=claim(0.064))
        settle(store, KEY, adm.reservation_id, 0.023)
        settle(store, KEY, adm.reservation_id, 0.023)
        assert held(store) == 23_000

    def test_a_release_gives_the_claim_back(self, store: Store) -> None:
        adm = store.reserve(KEY, [], 24, now=T0, budget=claim(0.064))
        store.release(KEY, adm.reservation_id)
        assert held(store) == 0
        store.release(KEY, adm.reservation_id)  # twice: nothing more
        assert held(store) == 0

    def test_a_settle_of_the_tokens_alone_keeps_the_worst_case(self, store: Store) -> None:
        adm = store.reserve(KEY, [], 24, now=T0, budget=claim(0.064))
        store.settle(KEY, adm.reservation_id, 23, now=T0)
        assert held(store) == 64_000

    def test_a_reservation_without_a_claim_touches_no_budget(self, store: Store) -> None:
        adm = store.reserve(KEY, [make_window("rpm", 5)], 24, now=T0)
        settle(store, KEY, adm.reservation_id, 0.05)
        assert held(store) == 0


class TestAllOrNothing:
    def test_a_full_window_takes_no_claim(self, store: Store) -> None:
        rpm1 = [make_window("rpm", 1)]
        assert store.reserve(KEY, rpm1, 24, now=T0, budget=claim(0.01)).ok
        refused = store.reserve(KEY, rpm1, 24, now=T0, budget=claim(0.01))
        assert refused.window == "rpm"
        assert held(store) == 10_000

    def test_a_full_budget_takes_no_window(self, store: Store) -> None:
        rpm = [make_window("rpm", 5)]
        assert store.reserve(KEY, rpm, 24, now=T0, budget=claim(0.09)).ok
        assert not store.reserve(KEY, rpm, 24, now=T0, budget=claim(0.09)).ok
        assert store.usage(KEY, rpm, now=T0)[0].used == 1

    def test_the_budget_refuses_before_a_block_or_a_window(self, store: Store) -> None:
        rpm1 = [make_window("rpm", 1)]
        assert store.reserve(KEY, rpm1, 24, now=T0, budget=claim(0.09)).ok
        store.block(KEY, until=T0 + 30, reason="429")
        assert store.reserve(KEY, rpm1, 24, now=T0, budget=claim(0.09)).window == "budget"
        assert store.reserve(KEY, rpm1, 24, now=T0, budget=claim(0.001)).window == "blocked"


class TestBudgetDays:
    @pytest.mark.parametrize("zone", ["utc", "America/Los_Angeles", "Asia/Kolkata"])
    def test_a_calendar_budget_renews_at_its_zone_midnight(self, store: Store, zone: str) -> None:
        midnight = next_day_start(T0, zone)
        c = claim(0.09, reset=zone)
        assert store.reserve(KEY, [], 24, now=T0, budget=c).ok
        assert store.reserve(KEY, [], 24, now=midnight - 1, budget=c).window == "budget"
        assert store.reserve(KEY, [], 24, now=midnight, budget=c).ok

    def test_a_rolling_budget_frees_24_hours_after_each_call(self, store: Store) -> None:
        c = claim(0.05, reset="rolling")
        assert store.reserve(KEY, [], 24, now=T0, budget=c).ok
        assert store.reserve(KEY, [], 24, now=T0 + 3600, budget=c).ok
        refused = store.reserve(KEY, [], 24, now=T0 + 7200, budget=c)
        assert (refused.window, refused.retry_at) == ("budget", T0 + 86_400)
        assert store.reserve(KEY, [], 24, now=T0 + 86_400, budget=c).ok

    def test_a_settlement_late_in_the_day_counts_in_the_claims_day(self, store: Store) -> None:
        adm = store.reserve(KEY, [], 24, now=T0, budget=claim(0.064))
        settle(store, KEY, adm.reservation_id, 0.023, now=T0 + 30)
        assert held(store, now=T0 + 60) == 23_000


def test_another_store_on_the_same_data_sees_the_claims(reopen: Reopen) -> None:
    first, second = reopen(), reopen()
    assert first.reserve(KEY, [], 24, now=T0, budget=claim(0.06)).ok
    assert second.reserve(KEY2, [], 24, now=T0, budget=claim(0.06)).window == "budget"


def test_64_threads_never_claim_more_than_the_budget(store: Store) -> None:
    """The budget check and the claim are one atomic step: no two threads share the last room."""
    start = threading.Barrier(64)
    granted: list[bool] = []

    def caller() -> None:
        start.wait()
        for _ in range(3):
            granted.append(store.reserve(KEY, [], 24, now=T0, budget=claim(0.0024, budget=0.1)).ok)

    threads = [threading.Thread(target=caller) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 41  # 41 x 2400 = 98,400 <= 100,000 < 42 x 2400
    assert held(store) == 98_400
