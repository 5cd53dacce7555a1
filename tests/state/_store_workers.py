"""Worker functions for the multi-process tests (importable, as the spawn start method needs)."""

from __future__ import annotations

import threading
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from llmswitch._quota import make_window
from llmswitch._state import store_from_url


def hammer(
    url: str,
    options: dict[str, Any],
    *,
    threads: int,
    attempts: int,
    now: float,
    barrier: Barrier,
    results: Queue[int],
) -> None:
    """Reserve against rpm=30 from ``threads`` threads at once; report how many were granted."""
    store = store_from_url(url, **options)
    windows = [make_window("rpm", 30)]
    granted: list[bool] = []
    start = threading.Barrier(threads)

    def one_thread() -> None:
        start.wait()
        for _ in range(attempts):
            granted.append(store.reserve("groq:GROQ_API_KEY", windows, 10, now=now).ok)

    pool = [threading.Thread(target=one_thread) for _ in range(threads)]
    barrier.wait()  # every process is up: start together
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.close()
    results.put(granted.count(True))


def spend(
    url: str,
    options: dict[str, Any],
    *,
    threads: int,
    attempts: int,
    now: float,
    barrier: Barrier,
    results: Queue[int],
) -> None:
    """Claim a worst case of $0.0024 of a $0.1 budget from ``threads`` threads, settle each
    granted call at its real cost of $0.0017 and record it; report how many were granted."""
    from llmswitch._ledger import entry
    from llmswitch._quota import BudgetClaim, budget_scope, budget_window, micro_usd
    from llmswitch._types import Usage

    store = store_from_url(url, **options)
    claim = BudgetClaim(budget_scope("openai"), budget_window(0.1), micro_usd(0.0024))
    granted: list[bool] = []
    start = threading.Barrier(threads)

    def one_thread() -> None:
        start.wait()
        for _ in range(attempts):
            adm = store.reserve("openai:OPENAI_API_KEY", [], 24, now=now, budget=claim)
            granted.append(adm.ok)
            if adm.ok:
                e = entry(
                    ts=now,
                    provider="openai",
                    key_alias="OPENAI_API_KEY",
                    model="gpt-4o-mini",
                    outcome="ok",
                    usage=Usage(7, 16),
                    cost=0.0017,
                    latency_s=0.1,
                    free=False,
                )
                store.settle_and_record("openai:OPENAI_API_KEY", adm.reservation_id, 23, e, now=now)

    pool = [threading.Thread(target=one_thread) for _ in range(threads)]
    barrier.wait()  # every process is up: start together
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.close()
    results.put(granted.count(True))
