"""Cooldowns only lengthen; after one, a single probe goes through before full traffic."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._errors import ServerError
from llmswitch._quota import provider_scope
from tests.conftest import ManagerFactory

HELLO = [{"role": "user", "content": "hello"}]


def test_a_failed_probe_reopens_the_circuit_and_a_good_one_closes_it(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "status", "status": 503})
    assert llm.chat(HELLO).provider == "gemini"
    clock.advance(301)
    probe = llm.chat(HELLO)  # the probe reaches Groq, which still fails
    assert [a.outcome for a in probe.attempts] == ["server_error", "ok"]
    before = len(sim.requests("groq"))
    clock.advance(200)
    assert llm.chat(HELLO).provider == "gemini"
    assert len(sim.requests("groq")) == before
    sim.clear_faults("groq")
    clock.advance(101)
    assert llm.chat(HELLO).provider == "groq"
    assert llm.get_provider_status()["providers"]["groq"]["circuit"] == "closed"
    assert llm.chat(HELLO).provider == "groq"


def test_only_one_probe_goes_through_while_others_fail_over(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "status", "status": 503})
    llm.chat(HELLO)
    clock.advance(301)
    sim.set_fault("groq", {"kind": "slow_first_token", "seconds": 0.5})
    before = len(sim.requests("groq"))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: llm.chat(HELLO), range(8)))
    assert len(sim.requests("groq")) == before + 1
    assert sum(r.provider == "groq" for r in results) == 1


def test_a_later_failure_never_shortens_a_cooldown(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "status", "status": 503})
    llm.chat(HELLO)
    until = llm.get_provider_status()["providers"]["groq"]["cooldown_until"]
    # Another process (same store) sees a failure that came with a short Retry-After.
    clock.advance(10)
    err = ServerError("overloaded", provider="groq", retry_after=5.0)
    llm.store.trip(
        provider_scope("groq"),
        until=clock() + 5.0,
        kind=err.kind.value,
        message=err.message,
        now=clock(),
    )
    assert llm.get_provider_status()["providers"]["groq"]["cooldown_until"] == pytest.approx(until)


def test_the_providers_retry_after_sets_the_cooldown(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "rate_limit", "retry_after": 42})
    result = llm.chat(HELLO)
    assert result.attempts[0].retry_after == pytest.approx(42, abs=1)
    key = llm.get_provider_status()["providers"]["groq"]["keys"][0]
    assert key["blocked_until"] == pytest.approx(clock() + 42, abs=1)
