"""``fail_open``: while Redis is down each process admits from the counts Redis last returned, and
only its share of what was left. One process alone never overshoots the provider's limit; two
sharing a key together neither. Real Redis (stopped for real), the simulator on loopback enforcing
groq's 30 requests a minute, the FakeClock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._quota import make_window
from llmswitch._state._common import CalendarPeriods
from llmswitch._state._fallback import Reading, share
from llmswitch._state.base import Admission, Counted
from tests.conftest import ManagerFactory, sent_429
from tests.redis_server import OwnRedis

HI = [{"role": "user", "content": "hi"}]
T0 = 1_780_000_000.0


@pytest.fixture
def own_redis(redis_url: str) -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.cleanup()


def groq_calls(sim: Any) -> int:
    return sum(1 for r in sim.requests("groq") if r["status"] == 200)


@pytest.mark.redis
def test_one_process_failing_open_never_overshoots(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, own_redis: OwnRedis
) -> None:
    llm = make_manager(state=own_redis.url, extra="fail_open = true")
    for _ in range(20):
        assert llm.chat(HI).provider == "groq"
        clock.advance(1.0)
    own_redis.stop()
    served = []
    for _ in range(20):  # still inside the minute that holds the first 20
        served.append(llm.chat(HI).provider)
        clock.advance(1.0)
    assert served.count("groq") == 10, "30 a minute: 20 were counted in Redis, 10 are left"
    assert sent_429(sim, "groq") == 0
    clock.advance(60.0)  # the minute has passed: the whole limit is this process's again
    assert [llm.chat(HI).provider for _ in range(30)].count("groq") == 30
    assert sent_429(sim, "groq") == 0


@pytest.mark.redis
def test_two_processes_failing_open_share_what_was_left(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, own_redis: OwnRedis
) -> None:
    a = make_manager(state=own_redis.url, extra="fail_open = true")
    b = make_manager(state=own_redis.url, extra="fail_open = true")
    for _ in range(5):
        assert a.chat(HI).provider == "groq" and b.chat(HI).provider == "groq"
    own_redis.stop()
    for _ in range(15):
        a.chat(HI)
        b.chat(HI)
    assert groq_calls(sim) == 30, "each took half of the 20 left: 10 + 10"
    assert sent_429(sim, "groq") == 0


RPM, RPD = make_window("rpm", 30), make_window("rpd", 1000, reset="utc")


@pytest.mark.parametrize(
    ("processes", "counts", "now", "limits"),
    [
        pytest.param(1, ((20, 0), (500, 0)), T0 + 10, [10, 500], id="alone: what was left"),
        pytest.param(3, ((20, 0), (500, 0)), T0 + 10, [3, 166], id="three: a third each"),
        pytest.param(1, ((20, 0), (500, 0)), T0 + 60, [30, 500], id="the minute slid out"),
        pytest.param(1, ((30, 0), (500, 0)), T0 + 10, "rpm", id="nothing left: refused"),
    ],
)
def test_the_share(
    processes: int, counts: tuple[tuple[int, int], ...], now: float, limits: Any
) -> None:
    reading = Reading(T0, (RPM, RPD), Counted(processes, counts))
    got = share([RPM, RPD], reading, now, CalendarPeriods())
    if isinstance(limits, str):
        assert isinstance(got, Admission) and got.window == limits and got.retry_at == T0 + 60
    else:
        assert not isinstance(got, Admission) and [w.limit for w in got] == limits
    assert share([RPM], None, now, CalendarPeriods()) == [RPM], "never read: own count"
