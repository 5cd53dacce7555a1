"""Redis goes away in the middle of a run: fail closed (the default) or open, loudly, and recover
by itself when it returns. The manager runs on a FakeClock; Redis is a real server of the test's
own, really stopped and started."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from rich.console import Console

from llmswitch._cli import status_table
from llmswitch._clock import FakeClock
from llmswitch._errors import AllProvidersFailed
from llmswitch._events import Event, StoreHealthChanged
from tests.conftest import ManagerFactory
from tests.redis_server import OwnRedis
from tests.server.conftest import GatewayFactory

pytestmark = pytest.mark.redis


def total_requests(sim: Any) -> int:
    return sum(len(sim.requests(p)) for p in ("groq", "gemini", "openrouter", "together", "openai"))


def health_events(events: list[Event]) -> list[tuple[bool, bool]]:
    return [(e.ok, e.fail_open) for e in events if isinstance(e, StoreHealthChanged)]


def test_redis_down_fails_closed_with_an_error_naming_redis_then_recovers(
    make_manager: ManagerFactory,
    sim: Any,
    clock: FakeClock,
    own_redis: OwnRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[Event] = []
    llm = make_manager(state=own_redis.url, sinks=[events.append])
    assert llm.chat([{"role": "user", "content": "hi"}]).provider == "groq"
    sent_before = total_requests(sim)

    own_redis.stop()
    with pytest.raises(AllProvidersFailed) as info:
        llm.call_llm("You are terse.", "hi")
    message = str(info.value)
    assert f"Redis at 127.0.0.1:{own_redis.port}/0" in message
    assert "fail_open = true" in message
    assert {a.outcome for a in info.value.attempts} == {"state_unavailable"}
    assert total_requests(sim) == sent_before, "nothing is sent whose limits cannot be checked"
    with pytest.raises(AllProvidersFailed):  # still down: same answer, no crash
        llm.call_llm("You are terse.", "hi")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "Redis" in r.message]
    assert len(errors) == 1, "the outage is logged once, not once per call"

    status = llm.get_provider_status()
    assert status["state"]["backend"] == "redis"
    assert status["state"]["status"] == "degraded"
    assert status["state"]["ok"] is False
    assert "Redis at 127.0.0.1" in status["state"]["detail"]
    assert {p["status"] for p in status["providers"].values()} == {"degraded"}
    assert status["current_provider"] is None
    console = Console(record=True, width=200)
    console.print(status_table(status, "state store"))
    assert "DEGRADED (failing closed): Redis at 127.0.0.1" in console.export_text()

    own_redis.start()  # the AOF brings back the minute's reservations
    clock.advance(1.0)  # the next retry of the real store is due
    result = llm.chat([{"role": "user", "content": "hi"}])
    assert result.provider == "groq"
    assert llm.get_provider_status()["state"]["status"] == "ok"
    assert health_events(events) == [(False, False), (True, False)]
    assert llm.get_provider_status()["providers"]["groq"]["requests_this_minute"] == 2


def test_a_down_redis_is_retried_once_per_interval_not_on_every_call(
    make_manager: ManagerFactory, clock: FakeClock, own_redis: OwnRedis
) -> None:
    llm = make_manager(state=own_redis.url)
    llm.call_llm("s", "hi")
    own_redis.stop()
    with pytest.raises(AllProvidersFailed):
        llm.call_llm("s", "hi")
    own_redis.start()
    with pytest.raises(AllProvidersFailed) as info:  # same instant: Redis is not asked again
        llm.call_llm("s", "hi")
    assert info.value.retry_after == pytest.approx(1.0)
    clock.advance(info.value.retry_after or 0)
    assert llm.call_llm("s", "hi")


def test_fail_open_admits_on_per_process_limits_loudly_and_loses_no_ledger_entry(
    make_manager: ManagerFactory,
    sim: Any,
    clock: FakeClock,
    own_redis: OwnRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[Event] = []
    llm = make_manager(
        state=own_redis.url,
        extra="fail_open = true",
        providers={"groq": {"requests_per_minute": 2}},
        sinks=[events.append],
    )
    llm.call_llm("s", "before")
    own_redis.stop()

    served = [llm.chat([{"role": "user", "content": f"during {i}"}]).provider for i in range(3)]
    assert served == ["groq", "gemini", "gemini"], "the fallback starts from Redis's count (1 of 2)"
    assert any("FAILING OPEN" in r.message for r in caplog.records if r.levelno == logging.ERROR)
    state = llm.get_provider_status()["state"]
    assert (state["status"], state["fail_open"], state["pending_ledger_entries"]) == (
        "degraded",
        True,
        "3",
    )

    own_redis.start()
    clock.advance(1.0)
    llm.call_llm("s", "after")
    assert health_events(events) == [(False, True), (True, True)]
    usage = llm.get_usage("today")["providers"]
    assert usage["groq"]["requests"] + usage["gemini"]["requests"] == 5, "nothing is lost"


def test_the_gateway_reports_a_degraded_store_and_fails_calls_with_503(
    make_gateway: GatewayFactory, own_redis: OwnRedis
) -> None:
    gw = make_gateway(state=own_redis.url)
    own_redis.stop()
    body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    reply = httpx.post(gw.v1 + "/chat/completions", json=body, timeout=10)
    assert reply.status_code == 503
    assert "Redis at 127.0.0.1" in reply.json()["error"]["message"]
    status = httpx.get(gw.base_url + "/api/llm-providers", timeout=10).json()
    assert status["state"]["status"] == "degraded"
    assert status["providers"]["groq"]["status"] == "degraded"
    assert httpx.get(gw.base_url + "/healthz", timeout=10).status_code == 503
    usage = httpx.get(gw.base_url + "/api/usage", timeout=10)
    assert usage.status_code == 503, "the ledger is in Redis: unavailable, not a server crash"
    assert "Redis at 127.0.0.1" in usage.json()["error"]["message"]


def test_the_headroom_strategy_also_fails_closed_with_the_same_error(
    make_manager: ManagerFactory, own_redis: OwnRedis
) -> None:
    """``headroom`` reads every key's windows to order the plan: a dead Redis there must give
    the same clear refusal, not a bare storage error from the planner."""
    llm = make_manager(state=own_redis.url, extra='strategy = "headroom"')
    assert llm.call_llm("s", "hi")
    own_redis.stop()
    with pytest.raises(AllProvidersFailed, match=r"Redis at 127\.0\.0\.1"):
        llm.call_llm("s", "hi")
