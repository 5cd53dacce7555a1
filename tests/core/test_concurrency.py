"""Under any concurrency the upstream never sees more than its limits from us."""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from llmswitch._clock import FakeClock
from tests.conftest import ManagerFactory, sent_429

HELLO = [{"role": "user", "content": "hello"}]


def test_64_threads_against_a_30_per_minute_provider(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(providers={"groq": {"tokens_per_minute": 0}})
    sim.set_limits("groq", tpm=0)
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(lambda _: llm.chat(HELLO, max_tokens=20), range(64)))
    served = collections.Counter(r.provider for r in results)
    assert len(results) == 64, "every call is served"
    assert served["groq"] == 30
    assert sent_429(sim, "groq") == 0
    assert len(sim.requests("groq")) == 30


async def test_64_tasks_against_a_30_per_minute_provider(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(providers={"groq": {"tokens_per_minute": 0}})
    sim.set_limits("groq", tpm=0)
    results = await asyncio.gather(*(llm.achat(HELLO, max_tokens=20) for _ in range(64)))
    assert collections.Counter(r.provider for r in results)["groq"] == 30
    assert sent_429(sim, "groq") == 0
    clock.advance(61)
    again = await asyncio.gather(*(llm.achat(HELLO, max_tokens=20) for _ in range(40)))
    assert collections.Counter(r.provider for r in again)["groq"] == 30
    assert sent_429(sim, "groq") == 0
    await llm.aclose()


async def test_a_state_store_waiting_for_a_lock_does_not_stall_the_event_loop(
    make_manager: ManagerFactory, tmp_path: Path
) -> None:
    """Another process holds the SQLite file locked: the async call waits for the lock on the
    state thread pool, while the event loop goes on serving everything else."""
    db = tmp_path / "state.db"
    llm = make_manager(state=f"sqlite:///{db}?busy_timeout=5")
    await llm.achat(HELLO, max_tokens=20)  # the schema exists; the file is ours to lock
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        call = asyncio.create_task(llm.achat(HELLO, max_tokens=20))
        for _ in range(3):
            await asyncio.sleep(0)  # the loop is ours again while the call waits
        assert not call.done(), "the call waits for the lock without blocking the loop"
    finally:
        other.execute("COMMIT")
        other.close()
    assert (await call).provider == "groq"
    await llm.aclose()


async def test_an_uncontended_sqlite_step_runs_on_the_event_loop_a_contended_one_off_it(
    make_manager: ManagerFactory, tmp_path: Path
) -> None:
    """A thread hop costs more than an uncontended SQLite step: the steps run on the loop's own
    thread, until another process holds the file's lock; then they wait on the state pool."""
    from tests.state.test_sqlite_may_wait import hold_write_lock, release

    threads: list[str] = []
    db = tmp_path / "state.db"
    llm = make_manager(
        state=f"sqlite:///{db}?busy_timeout=30",
        sinks=[lambda event: threads.append(threading.current_thread().name)],
    )
    await llm.achat(HELLO, max_tokens=20)
    assert threads and set(threads) == {threading.current_thread().name}
    threads.clear()
    child = hold_write_lock(db)
    try:
        call = asyncio.create_task(llm.achat(HELLO, max_tokens=20))
        for _ in range(3):
            await asyncio.sleep(0)  # the loop stays ours while the call waits for the lock
        assert not call.done()
    finally:
        release(child)
    assert (await call).provider == "groq"
    assert threads and all(t.startswith("llmswitch-state") for t in threads)
    await llm.aclose()
