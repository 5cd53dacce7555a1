"""SQLite writes a call's settlement and ledger entry behind (issue 17: one write transaction
per call): in this process's next transaction, or by its writer thread once idle, and always
before any read of the store and at ``close``. This process never sees them missing; another
process (here: a second store on the same file, with its own connection) sees them once
written, and meanwhile counts the call at its reservation, as while it was in flight.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmswitch._ledger import LedgerEntry, entry
from llmswitch._quota import make_window
from llmswitch._state._sqlite_behind import LEDGER_BATCH
from llmswitch._state.sqlite import SqliteStore
from llmswitch._types import Usage

SCOPE = "groq:GROQ_API_KEY"
TPM = (make_window("tpm", 100_000),)
NOW = 1_780_000_000.0


def one_call(store: SqliteStore, *, reserved: int, used: int, at: float = NOW) -> LedgerEntry:
    adm = store.reserve(SCOPE, TPM, reserved, now=at)
    e = entry(
        ts=at,
        provider="groq",
        key_alias="GROQ_API_KEY",
        model="m",
        outcome="ok",
        usage=Usage(used - 5, 5),
        cost=0.0,
        latency_s=0.1,
        free=True,
    )
    store.settle_and_record(SCOPE, adm.reservation_id, used, e, now=at)
    return e


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    """This process's store and another's view of the same file."""
    path = tmp_path / "state.db"
    mine, other = SqliteStore(path), SqliteStore(path)
    yield mine, other
    mine.close()
    other.close()


def tokens(store: SqliteStore) -> int:
    return store.usage(SCOPE, TPM, now=NOW + 1)[0].used


def test_this_process_reads_its_settlements_at_once(pair: tuple[SqliteStore, SqliteStore]) -> None:
    mine, _ = pair
    e = one_call(mine, reserved=1_000, used=40)
    assert tokens(mine) == 40  # settled, not the 1,000 reserved
    assert [x.entry_id for x in mine.ledger_entries()] == [e.entry_id]
    assert mine.usage_rows()[0].requests == 1  # the day's totals too


def test_the_next_reservation_writes_the_settlement_for_everyone(
    pair: tuple[SqliteStore, SqliteStore],
) -> None:
    mine, other = pair
    one_call(mine, reserved=1_000, used=40)
    if not other.ledger_entries():  # the writer thread may not have run yet: the call counts
        assert tokens(other) == 1_000  # at its reservation meanwhile, never less
    second = mine.reserve(SCOPE, TPM, 500, now=NOW + 0.5)  # one transaction: both written
    assert second.ok and second.used == (540,)
    assert tokens(other) == 540


def test_ledger_entries_are_written_in_batches(pair: tuple[SqliteStore, SqliteStore]) -> None:
    """A batch writes the ledger's pages (the row, its id index, the day's two totals) once:
    another process sees the entries once ``LEDGER_BATCH`` wait (or the oldest waited
    ``FLUSH_AFTER``), all of them and each once."""
    mine, other = pair
    entries = [one_call(mine, reserved=100, used=40, at=NOW + i) for i in range(LEDGER_BATCH)]
    mine.reserve(SCOPE, TPM, 100, now=NOW + LEDGER_BATCH)  # the next call's transaction
    seen = other.ledger_entries(limit=1_000)
    assert sorted(e.entry_id for e in seen) == sorted(e.entry_id for e in entries)
    assert other.usage_rows()[0].requests == LEDGER_BATCH  # the day's totals with them


def test_close_writes_what_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    mine = SqliteStore(path)
    e = one_call(mine, reserved=1_000, used=40)
    mine.close()
    reopened = SqliteStore(path)
    try:
        assert [x.entry_id for x in reopened.ledger_entries()] == [e.entry_id]
        assert tokens(reopened) == 40
    finally:
        reopened.close()


def test_an_idle_store_writes_them_by_itself(pair: tuple[SqliteStore, SqliteStore]) -> None:
    """No read, no further call, no close: the writer thread writes them once idle."""
    mine, other = pair
    e = one_call(mine, reserved=1_000, used=40)
    deadline = time.monotonic() + 10.0  # a bound for the thread to run, not a timing
    while not other.ledger_entries():
        assert time.monotonic() < deadline, "the writer thread never wrote the entry"
        time.sleep(0.01)
    assert [x.entry_id for x in other.ledger_entries()] == [e.entry_id]
    assert tokens(other) == 40


def test_a_call_is_one_write_transaction(pair: tuple[SqliteStore, SqliteStore]) -> None:
    """Counted on SQLite's own connection: a call's reservation commits once, carrying the
    previous call's settlement (and, in batches, the ledger entries)."""
    mine, _ = pair
    one_call(mine, reserved=1_000, used=40)
    commits: list[str] = []
    db = mine._conn()
    db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    try:
        for i in range(1, 6):
            one_call(mine, reserved=1_000, used=40, at=NOW + i)
    finally:
        db.set_trace_callback(None)
    assert len(commits) <= 5
