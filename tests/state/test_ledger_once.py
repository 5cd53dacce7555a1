"""A ledger entry is applied once: a retried ``record`` or ``settle_and_record`` (a write that
timed out and is written again, a replay after an outage) counts one call, on every backend."""

from __future__ import annotations

import dataclasses

from llmswitch import _ledger as ledger
from llmswitch._quota import make_window
from llmswitch._state.base import Store
from llmswitch._types import Usage

T0 = 1_780_000_000.0
SCOPE = "groq:GROQ_API_KEY"
TPM = [make_window("tpm", 10_000)]


def entry(ts: float = T0, *, model: str = "m", alias: str = "K") -> ledger.LedgerEntry:
    return ledger.entry(
        ts=ts,
        provider="groq",
        key_alias=alias,
        model=model,
        outcome="ok",
        usage=Usage(prompt_tokens=10, completion_tokens=5),
        cost=0.25,
        latency_s=0.5,
        free=False,
    )


def requests(store: Store) -> int:
    return sum(r.requests for r in store.usage_rows())


def test_every_entry_gets_its_own_id_in_time_order() -> None:
    ids = {entry().entry_id for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 32 for i in ids)
    later = [entry(T0 + s).entry_id for s in (0.0, 0.000001, 1.0, 3600.0)]
    assert later == sorted(later), "time first: the SQLite index grows at its right edge"


def test_a_retried_record_counts_once(store: Store) -> None:
    e = entry()
    for _ in range(3):
        store.record(e)
    assert requests(store) == 1
    assert [x.entry_id for x in store.ledger_entries()] == [e.entry_id]
    (row,) = store.rollup_rows()
    assert (row.requests, row.cost_usd) == (1, 0.25)


def test_a_replayed_settlement_counts_once_and_settles_once(store: Store) -> None:
    adm = store.reserve(SCOPE, TPM, 1000, now=T0)
    e = entry()
    for _ in range(3):
        store.settle_and_record(SCOPE, adm.reservation_id, 15, e, now=T0)
    store.record(e)  # the guard's late write of the same entry
    assert requests(store) == 1
    assert store.usage(SCOPE, TPM, now=T0 + 1)[0].used == 15


def test_entries_without_an_id_are_each_counted(store: Store) -> None:
    e = dataclasses.replace(entry(), entry_id="")
    store.record(e)
    store.record(e)
    assert requests(store) == 2
