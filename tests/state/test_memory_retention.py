"""``memory://`` keeps a reservation only while a window of its scope needs it: none at all for a
scope without windows, and for a minute window no longer than the minute and a short margin."""

from __future__ import annotations

import tracemalloc

from llmswitch._quota import make_window
from llmswitch._state.memory import LATE_WINDOW_MARGIN, MemoryStore

T0 = 1_780_000_000.0
SCOPE = "groq:GROQ_API_KEY"


def kept(store: MemoryStore) -> int:
    return sum(len(sc.entries) + len(sc.log) for sc in store._scopes.values())


def test_a_scope_without_windows_keeps_no_reservation() -> None:
    store = MemoryStore()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100_000):
        adm = store.reserve(SCOPE, [], 100, now=T0 + i * 0.01)
        store.settle(SCOPE, adm.reservation_id, 50, now=T0 + i * 0.01)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert kept(store) == 0
    assert grown < 100_000, f"{grown} bytes for 100,000 calls"


def test_a_minute_window_keeps_a_minute_and_the_margin() -> None:
    store = MemoryStore()
    rpm = [make_window("rpm", 1_000_000), make_window("tpm", 10**12)]
    for i in range(20_000):  # ten calls a second for 2,000 s
        assert store.reserve(SCOPE, rpm, 100, now=T0 + i * 0.1).ok
    assert kept(store) <= 2 * 10 * (60 + LATE_WINDOW_MARGIN + 1)
    usage = store.usage(SCOPE, rpm, now=T0 + 1999.9)
    assert usage[0].used == 600  # the minute still counts exactly
