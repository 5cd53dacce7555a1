"""Four OS processes of 16 threads share one budget in one store: it holds exactly.

Each granted call claims a worst case of $0.0024 and settles at its real $0.0017, so the room a
settlement gives back is taken by later calls: the ledger must end within the $0.1 budget
whatever the interleaving, and (the budget's last room used) within one worst case of it.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from pathlib import Path
from typing import Any

import pytest

from llmswitch._ledger import spent_today
from llmswitch._quota import budget_scope, budget_window
from llmswitch._state import store_from_url
from tests.state._store_workers import spend

T0 = 1_780_000_000.0
PROCESSES, THREADS, ATTEMPTS = 4, 16, 2  # 128 tries; about 58 fit


def run(url: str, options: dict[str, Any]) -> int:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    kwargs = {
        "threads": THREADS,
        "attempts": ATTEMPTS,
        "now": T0,
        "barrier": barrier,
        "results": results,
    }
    procs = [ctx.Process(target=spend, args=(url, options), kwargs=kwargs) for _ in range(4)]
    for p in procs:
        p.start()
    granted = sum(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return granted


def check(url: str, options: dict[str, Any]) -> None:
    granted = run(url, options)
    spent, held = _read(url, options)
    assert spent == pytest.approx(0.0017 * granted)
    assert held == 1700 * granted  # every claim settled at its real cost
    assert spent <= 0.1, "the concurrent run overshot"
    # Whether the concurrent tries used the last room depends on the interleaving (a try refused
    # while others' worst cases were in flight is not made again), so one caller then spends
    # until refused: the budget must take calls to its last room, never starve.
    results: queue.Queue[int] = queue.Queue()
    spend(
        url, options, threads=1, attempts=60, now=T0, barrier=threading.Barrier(1), results=results
    )  # type: ignore[arg-type]
    granted += results.get_nowait()
    spent, held = _read(url, options)
    assert spent == pytest.approx(0.0017 * granted) and held == 1700 * granted
    assert 0.1 - 0.0024 < spent <= 0.1


def _read(url: str, options: dict[str, Any]) -> tuple[float, int]:
    store = store_from_url(url, **options)
    try:
        spent = spent_today(store, "openai", T0)
        held = store.usage(budget_scope("openai"), [budget_window(0.1)], now=T0)[0].used
    finally:
        store.close()
    return spent, held


@pytest.mark.slow
def test_four_processes_share_one_budget_in_sqlite(tmp_path: Path) -> None:
    check(f"sqlite:///{tmp_path / 'shared.db'}", {})


@pytest.mark.slow
@pytest.mark.redis
def test_four_processes_share_one_budget_in_redis(redis_url: str, redis_prefix: str) -> None:
    options = {"prefix": redis_prefix}
    try:
        check(redis_url, options)
    finally:
        store = store_from_url(redis_url, **options)
        store.reset()
        store.close()
