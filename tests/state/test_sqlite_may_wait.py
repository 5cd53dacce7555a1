"""When a step of the async router may wait on the state store, and so leaves the event loop.

A thread hop costs more than an uncontended SQLite step, so the async router runs steps inline
unless ``Store.may_wait()``: always for a networked store, never for memory, and for SQLite
while another process holds its lock or did within ``CONTENDED_FOR`` seconds, or while another
thread of this process has been inside the store for longer than ``HELD_LONG``. Real files, a
real second process; time injected.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmswitch._state import store_from_url
from llmswitch._state._sqlite_lock import CONTENDED_FOR, HELD_LONG
from llmswitch._state.sqlite import SqliteStore


class Timer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timer() -> Timer:
    return Timer()


@pytest.fixture
def sqlite(tmp_path: Path, timer: Timer) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "state.db", timer=timer)
    yield store
    store.close()


def hold_write_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding SQLite's write lock on ``path`` until its stdin closes."""
    code = (
        "import sqlite3, sys\n"
        f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
        "db.execute('ROLLBACK')\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.close()
    assert child.wait(timeout=30) == 0
    child.stdout.close()


def test_an_uncontended_sqlite_store_does_not_wait(sqlite: SqliteStore) -> None:
    assert sqlite.may_wait() is False


def test_another_process_holding_the_lock_means_waiting_until_it_has_been_free_a_while(
    sqlite: SqliteStore, tmp_path: Path, timer: Timer
) -> None:
    child = hold_write_lock(tmp_path / "state.db")
    try:
        assert sqlite.may_wait() is True
    finally:
        release(child)
    assert sqlite.may_wait() is True, "seen taken: still off the loop for a while"
    timer.now += CONTENDED_FOR + 0.1
    assert sqlite.may_wait() is False


def test_another_thread_inside_the_store_a_while_means_waiting(
    sqlite: SqliteStore, timer: Timer
) -> None:
    """One of our threads in the store for a step is waited for on the loop (it is out in
    microseconds); one inside for longer than ``HELD_LONG`` (a long read) sends steps to a
    thread. Neither is remembered: our own pool's steps must not keep the loop off."""
    inside, leave = threading.Event(), threading.Event()

    def occupy() -> None:
        with sqlite._locked():
            inside.set()
            leave.wait(30)

    worker = threading.Thread(target=occupy)
    worker.start()
    try:
        assert inside.wait(30)
        assert sqlite.may_wait() is False  # just went in: a step
        timer.now += HELD_LONG * 2
        assert sqlite.may_wait() is True  # still inside: a long one
    finally:
        leave.set()
        worker.join(30)
    assert sqlite.may_wait() is False  # out again, and nothing remembered


@pytest.mark.parametrize(("url", "waits"), [("memory://", False)])
def test_memory_never_waits(url: str, waits: bool) -> None:
    assert store_from_url(url).may_wait() is waits


@pytest.mark.redis
def test_a_networked_store_always_may_wait(redis_url: str, redis_prefix: str) -> None:
    store = store_from_url(redis_url, prefix=redis_prefix)
    try:
        assert store.may_wait() is True
    finally:
        store.close()


def test_reading_usage_takes_no_write_lock(tmp_path: Path) -> None:
    """The status and the rate-limit headers read window usage after every reply: a reader's
    snapshot, so it neither waits for another process's write nor makes writers wait."""
    from llmswitch._quota import make_window

    store = SqliteStore(tmp_path / "state.db", busy_timeout=0.2)
    rpm = (make_window("rpm", 30),)
    assert store.reserve("groq:K", rpm, 10, now=1000.0).ok
    child = hold_write_lock(tmp_path / "state.db")
    try:
        assert [u.used for u in store.usage("groq:K", rpm, now=1001.0)] == [1]
    finally:
        release(child)
        store.close()
