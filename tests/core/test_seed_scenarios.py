"""The seed's three scenarios, request by request, on simulated time over loopback HTTP."""

from __future__ import annotations

from typing import Any

from llmswitch._clock import FakeClock
from tests.conftest import ManagerFactory, sent_429


def ask(manager: Any, n: int) -> str:
    result = manager.chat([{"role": "user", "content": f"request {n}"}], max_tokens=50)
    return str(result.provider)


def test_rate_limit_moves_request_31_to_gemini_and_returns_when_the_minute_frees(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    served = []
    for n in range(1, 32):
        served.append(ask(llm, n))
        clock.advance(0.5)
    assert served[:30] == ["groq"] * 30
    assert served[30] == "gemini"
    # The minute slides: once the first request is 60 s old, Groq takes calls again.
    clock.advance(60.0 - 15.0)
    assert ask(llm, 32) == "groq"
    assert sent_429(sim, "groq") == 0


def test_provider_error_cools_groq_down_for_five_minutes_then_it_is_used_again(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    assert ask(llm, 1) == "groq"
    sim.set_fault("groq", {"kind": "status", "status": 503})
    result = llm.chat([{"role": "user", "content": "request 2"}], max_tokens=50)
    assert result.provider == "gemini"
    assert [a.outcome for a in result.attempts] == ["server_error", "ok"]
    sim.clear_faults("groq")
    clock.advance(299.0)
    assert ask(llm, 3) == "gemini", "still cooling down: Groq must not be called"
    before = len(sim.requests("groq"))
    clock.advance(2.0)
    assert ask(llm, 4) == "groq", "cooldown over: traffic returns to Groq"
    assert len(sim.requests("groq")) == before + 1


def test_daily_limit_approaching_moves_traffic_until_groq_day_resets(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(providers={"groq": {"tokens_per_day": 20000}})
    sim.set_limits("groq", tpd=20000)
    served = []
    for _n in range(200):
        served.append(llm.chat([{"role": "user", "content": "x" * 2000}], max_tokens=100).provider)
        clock.advance(10.0)
        if served[-1] != "groq":
            break
    assert served[-1] == "gemini"
    groq_day = llm.get_provider_status()["providers"]["groq"]["windows"]["tpd"]
    assert 0.90 * 20000 <= groq_day["used"] <= 0.95 * 20000
    assert sent_429(sim, "groq") == 0
    big = [{"role": "user", "content": "x" * 2000}]
    clock.advance(12 * 3600)
    assert llm.chat(big, max_tokens=100).provider == "gemini", "Groq's day has not ended yet"
    clock.advance(12 * 3600 + 60)
    assert llm.chat(big, max_tokens=100).provider == "groq"


def test_the_window_guard_frees_a_slot_just_after_the_providers_minute(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    """We count a request from admission, the provider from its arrival (later): our minute holds
    each request ``window_guard_seconds`` longer, so a waiting caller never lands on the
    provider's side of the edge. With the guard at 0 the slot frees at the minute exactly."""
    guarded = make_manager(providers={"groq": {"requests_per_minute": 1}})
    exact = make_manager(
        providers={"groq": {"requests_per_minute": 1, "window_guard_seconds": 0}}, state="memory://"
    )
    for llm in (guarded, exact):
        assert llm.chat([{"role": "user", "content": "one"}]).provider == "groq"
    clock.advance(60.0)
    assert exact.chat([{"role": "user", "content": "two"}]).provider == "groq"
    assert guarded.chat([{"role": "user", "content": "two"}]).provider == "gemini"
    clock.advance(0.5)
    assert guarded.chat([{"role": "user", "content": "three"}]).provider == "groq"
