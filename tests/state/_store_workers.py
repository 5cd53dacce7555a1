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
