"""A process forked while another of its threads is inside the SQLite store (the writer
thread's flush, a step on the state pool) must be able to use the store: the lock that thread
held is not inherited as held, and the parent's unwritten settlements are not written twice.
Real fork, real file."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from pathlib import Path

import pytest

from llmswitch._ledger import entry
from llmswitch._quota import make_window
from llmswitch._state.sqlite import SqliteStore
from llmswitch._types import Usage

RPM = (make_window("rpm", 100),)
SCOPE = "groq:GROQ_API_KEY"
NOW = 1_780_000_000.0

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork is the point here")


def reserve_in_child(store: SqliteStore, results: multiprocessing.Queue[bool]) -> None:
    results.put(store.reserve(SCOPE, RPM, 10, now=NOW + 1).ok)
    store.close()


def test_a_child_forked_while_a_thread_holds_the_lock_can_use_the_store(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    adm = store.reserve(SCOPE, RPM, 10, now=NOW)
    e = entry(
        ts=NOW,
        provider="groq",
        key_alias="GROQ_API_KEY",
        model="m",
        outcome="ok",
        usage=Usage(5, 5),
        cost=0.0,
        latency_s=0.1,
        free=True,
    )
    store.settle_and_record(SCOPE, adm.reservation_id, 10, e, now=NOW)  # kept behind
    inside, leave = threading.Event(), threading.Event()

    def occupy() -> None:
        with store._locked():
            inside.set()
            leave.wait(30)

    holder = threading.Thread(target=occupy)
    holder.start()
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[bool] = ctx.Queue()
    child = ctx.Process(target=reserve_in_child, args=(store, results))
    try:
        assert inside.wait(30)
        child.start()
        child.join(20)
        assert child.exitcode == 0, "the child hung on the lock its parent's thread held"
        assert results.get(timeout=5) is True
    finally:
        if child.is_alive():
            child.kill()
        leave.set()
        holder.join(30)
    assert [x.entry_id for x in store.ledger_entries()] == [e.entry_id]  # written once
    store.close()
