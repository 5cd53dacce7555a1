"""Several OS processes share one store: admission must stay exact across them."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from llmswitch._quota import make_window
from llmswitch._state import store_from_url
from tests.state._store_workers import hammer

T0 = 1_780_000_000.0


def run_processes(url: str, options: dict[str, Any], *, processes: int, threads: int) -> int:
    """Total reservations granted by ``processes`` spawned processes of ``threads`` threads."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    kwargs = {"threads": threads, "attempts": 2, "now": T0, "barrier": barrier, "results": results}
    procs = [
        ctx.Process(target=hammer, args=(url, options), kwargs=kwargs) for _ in range(processes)
    ]
    for p in procs:
        p.start()
    counts = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return sum(counts)


@pytest.mark.slow
def test_two_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert run_processes(url, {}, processes=2, threads=16) == 30
    store = store_from_url(url)
    assert store.usage("groq:GROQ_API_KEY", [make_window("rpm", 30)], now=T0)[0].used == 30
    store.close()


@pytest.mark.slow
@pytest.mark.redis
def test_four_processes_share_one_redis(redis_url: str, redis_prefix: str) -> None:
    options = {"prefix": redis_prefix}
    try:
        assert run_processes(redis_url, options, processes=4, threads=16) == 30
    finally:
        store = store_from_url(redis_url, **options)
        store.reset()
        store.close()
