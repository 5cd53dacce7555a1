"""A Redis stall: the settlement's write times out, Redis runs it when it wakes, and the guard
writes it again once the store is back. The ledger counts the call exactly once.

A real ``redis-server`` of the test's own, really stopped (SIGSTOP) and resumed (SIGCONT); the
client's timeouts are real (a fraction of a second), the guard's clock is a FakeClock.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from llmswitch import _ledger as ledger
from llmswitch._clock import FakeClock
from llmswitch._quota import make_window
from llmswitch._state.guarded import GuardedStore
from llmswitch._state.redis import RedisStore
from llmswitch._types import Usage
from tests.redis_server import OwnRedis

pytestmark = pytest.mark.redis
T0 = 1_780_000_000.0
SCOPE = "groq:GROQ_API_KEY"
RPM = [make_window("rpm", 30)]


@pytest.fixture
def own_redis(redis_url: str) -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.cleanup()


def entry(ts: float) -> ledger.LedgerEntry:
    usage = Usage(prompt_tokens=10, completion_tokens=5)
    return ledger.entry(
        ts=ts,
        provider="groq",
        key_alias="K",
        model="m",
        outcome="ok",
        usage=usage,
        cost=0.0,
        latency_s=0.1,
        free=True,
    )


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    """Waiting on another process (Redis catching up), not on simulated time."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "Redis never ran the stalled write"
        time.sleep(0.02)


def test_a_write_that_timed_out_in_a_stall_and_is_replayed_counts_once(
    own_redis: OwnRedis,
) -> None:
    clock = FakeClock(T0)
    url = f"{own_redis.url}?socket_timeout=0.3&socket_connect_timeout=0.3"
    primary = RedisStore(url=url, prefix="stall:")
    reader = RedisStore(url=own_redis.url, prefix="stall:")
    guarded = GuardedStore(primary, clock=clock)
    first = guarded.reserve(SCOPE, RPM, 100, now=T0 - 1)  # the scripts are loaded, one call
    guarded.settle_and_record(SCOPE, first.reservation_id, 15, entry(T0 - 1), now=T0 - 1)
    adm = guarded.reserve(SCOPE, RPM, 100, now=T0)
    assert adm.ok and own_redis.proc is not None

    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    try:
        guarded.settle_and_record(SCOPE, adm.reservation_id, 15, entry(T0), now=T0)
        assert guarded.degraded, "the write timed out and waits in the guard"
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
    wait_for(lambda: sum(r.requests for r in reader.usage_rows()) >= 2)  # Redis ran it late

    clock.advance(1.0)
    guarded.record(entry(T0 + 2))  # the store is back: the waiting entry is written again
    assert not guarded.degraded
    rows = reader.usage_rows()
    assert sum(r.requests for r in rows) == 3, "three calls, each counted once"
    assert len(reader.ledger_entries()) == 3
    assert reader.usage(SCOPE, RPM, now=T0 + 3)[0].used == 2
    for s in (primary, reader):
        s.reset()
        s.close()
