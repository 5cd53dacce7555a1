"""Under any concurrency the upstream never sees more than its limits from us."""

from __future__ import annotations

import asyncio
import collections
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from llmswitch.clock import FakeClock
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
