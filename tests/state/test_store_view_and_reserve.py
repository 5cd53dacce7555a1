"""``Store.view_and_reserve`` on every backend: the admission view, and the reservation in the
same step only when the view lets the call go exactly as the caller assumed. Redis answers it in
one script (``lua/admit.lua``), memory and SQLite by the default (view, then reserve); all must
agree, and a wrong guess may cost a round trip but never reserves past a circuit, a refused key
or a limit learned since."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch._quota import BudgetClaim, budget_window, make_window
from llmswitch._state.base import Store

T0 = 1_780_000_000.0
KEY = "groq:GROQ_API_KEY"
PROVIDER = "provider:groq"
MODEL = "model:groq/openai/gpt-oss-120b"
RPM2 = [make_window("rpm", 2)]


def ask(store: Store, *, learned: dict[str, int] | None = None, trip: int = 1, **kw: Any) -> Any:
    return store.view_and_reserve(
        PROVIDER,
        KEY,
        MODEL,
        fingerprint="fp1",
        failures_to_trip=trip,
        learned={} if learned is None else learned,
        windows=kw.pop("windows", RPM2),
        tokens=10,
        now=kw.pop("now", T0),
        **kw,
    )


def requests_held(store: Store) -> int:
    return store.usage(KEY, RPM2, now=T0)[0].used


def test_a_clear_view_reserves_in_the_same_step(store: Store) -> None:
    view, adm = ask(store)
    assert adm is not None and adm.ok and adm.reservation_id
    assert (view.provider_health, view.key_health, view.model_health) == (None, None, None)
    assert view.learned_limits == {}
    assert requests_held(store) == 1


def test_the_windows_still_refuse(store: Store) -> None:
    for _ in range(2):
        assert ask(store)[1].ok
    adm = ask(store)[1]
    assert adm is not None and not adm.ok and adm.window == "rpm"
    assert adm.retry_at == pytest.approx(T0 + 60)
    assert requests_held(store) == 2


@pytest.mark.parametrize("where", [PROVIDER, MODEL])
def test_an_open_or_half_open_circuit_reserves_nothing(store: Store, where: str) -> None:
    store.trip(where, until=T0 + 30, kind="server_error", message="500", now=T0 - 1)
    for now in (T0, T0 + 31):  # cooling down, then half-open (the probe is the caller's)
        view, adm = ask(store, now=now)
        assert adm is None
        record = view.provider_health if where == PROVIDER else view.model_health
        assert record is not None and record.consecutive_failures == 1
    assert requests_held(store) == 0


def test_failures_below_the_threshold_leave_the_circuit_closed(store: Store) -> None:
    store.trip(MODEL, until=0.0, kind="server_error", message="500", now=T0 - 1)
    view, adm = ask(store, trip=2)
    assert adm is not None and adm.ok
    assert view.model_health is not None and view.model_health.consecutive_failures == 1


def test_a_refused_key_reserves_nothing_and_another_value_does(store: Store) -> None:
    store.mark_auth_failed(KEY, fingerprint="fp1", message="401", now=T0 - 1)
    view, adm = ask(store)
    assert adm is None and view.key_health is not None
    assert view.key_health.auth_failed_fingerprint == "fp1"
    other = store.view_and_reserve(
        PROVIDER,
        KEY,
        None,
        fingerprint="fp2",
        failures_to_trip=1,
        learned={},
        windows=RPM2,
        tokens=10,
        now=T0,
    )
    assert other[1] is not None and other[1].ok


def test_limits_learned_since_the_guess_reserve_nothing(store: Store) -> None:
    store.put_learned_limits(KEY, {"rpm": 1, "tpm": 500})
    view, adm = ask(store, learned={"rpm": 1})  # the guess misses tpm
    assert adm is None and view.learned_limits == {"rpm": 1, "tpm": 500}
    view, adm = ask(store, learned={"tpm": 500, "rpm": 1})  # an exact guess, in any order
    assert adm is not None and adm.ok
    view, adm = ask(store, learned={})
    assert adm is None
    assert requests_held(store) == 1


def test_a_budget_is_claimed_with_the_windows(store: Store) -> None:
    budget = BudgetClaim("budget:openai", budget_window(0.001), 600)  # $0.001 holds one $0.0006
    assert ask(store, budget=budget)[1].ok
    adm = ask(store, budget=budget)[1]
    assert adm is not None and not adm.ok and adm.window == "budget"
    assert requests_held(store) == 1
