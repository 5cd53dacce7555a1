"""A grant says what each window holds right after it (``Admission.used``), on every backend.

The gateway's rate-limit headers are built from these counts instead of a second read of the
store, so they must be exactly what a read would say: this reservation included, in-flight
ones at their reservation, settled ones at their real tokens, a calendar day's and a rolling
minute's alike.
"""

from __future__ import annotations

from llmswitch._quota import make_window
from llmswitch._state.base import Store

RPM, TPM = make_window("rpm", 10), make_window("tpm", 10_000)
RPD = make_window("rpd", 100, reset="utc")
WINDOWS = (RPM, TPM, RPD)
SCOPE = "groq:GROQ_API_KEY"
NOW = 1_780_000_000.0


def read(store: Store, now: float) -> tuple[int, ...]:
    return tuple(u.used for u in store.usage(SCOPE, WINDOWS, now=now))


def test_a_grant_counts_itself_and_what_was_there(store: Store) -> None:
    first = store.reserve(SCOPE, WINDOWS, 700, now=NOW)
    assert first.ok and first.used == (1, 700, 1) == read(store, NOW)
    store.settle(SCOPE, first.reservation_id, 40, now=NOW + 1)  # settled to its real tokens
    second = store.reserve(SCOPE, WINDOWS, 500, now=NOW + 2)  # the first is counted at 40
    assert second.used == (2, 540, 2) == read(store, NOW + 2)


def test_a_minute_that_slid_by_is_not_counted_but_the_day_still_is(store: Store) -> None:
    store.reserve(SCOPE, WINDOWS, 300, now=NOW)
    later = store.reserve(SCOPE, WINDOWS, 200, now=NOW + 61)
    assert later.used == (1, 200, 2) == read(store, NOW + 61)


def test_a_refusal_says_nothing_of_counts(store: Store) -> None:
    for i in range(10):
        assert store.reserve(SCOPE, WINDOWS, 1, now=NOW + i / 100).ok
    refused = store.reserve(SCOPE, WINDOWS, 1, now=NOW + 0.5)
    assert not refused.ok and refused.window == "rpm" and refused.used == ()
