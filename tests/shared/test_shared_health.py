"""What one process learns about a provider, every process on the same Redis knows at once.

Two managers with their own Redis connections stand for two processes (or machines); the
multi-process runs are in test_shared_processes.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._state import store_from_url
from tests.conftest import SIM_KEYS, ManagerFactory
from tests.redis_server import OwnRedis

pytestmark = pytest.mark.redis

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def url() -> Iterator[str]:
    redis = OwnRedis()
    redis.start()
    yield redis.url
    redis.cleanup()


def test_a_cooldown_set_by_one_process_is_obeyed_by_the_other(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, url: str
) -> None:
    a, b = make_manager(state=url), make_manager(state=url)
    sim.set_fault("groq", {"kind": "status", "status": 503})
    assert a.chat(HI).provider == "gemini"
    sim.clear_faults()
    sent = len(sim.requests("groq"))

    assert b.chat(HI).provider == "gemini", "b skips Groq without trying it"
    assert len(sim.requests("groq")) == sent
    assert b.get_provider_status()["providers"]["groq"]["status"] == "cooling_down"

    clock.advance(301)
    assert b.chat(HI).provider == "groq", "b's probe succeeds and closes the circuit for all"
    assert a.get_provider_status()["providers"]["groq"]["status"] == "available"


def test_an_auth_failure_seen_by_one_process_disables_the_key_for_all(
    make_manager: ManagerFactory, sim: Any, url: str
) -> None:
    a, b = make_manager(state=url), make_manager(state=url)
    sim.revoke_key("groq", SIM_KEYS["GROQ_API_KEY"])
    assert a.chat(HI).provider == "gemini"
    sent = len(sim.requests("groq"))
    result = b.chat(HI)
    assert result.provider == "gemini"
    assert [x.outcome for x in result.attempts][:1] == ["key_refused"], "skipped, not sent"
    assert len(sim.requests("groq")) == sent, "the refused key is not sent again by anyone"


def test_one_probe_across_processes_after_a_cooldown(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, url: str
) -> None:
    managers = [make_manager(state=url) for _ in range(4)]
    sim.set_fault("groq", {"kind": "status", "status": 503})
    managers[0].chat(HI)
    clock.advance(301)
    probes_before = len(sim.requests("groq"))
    # Groq still fails: each probe re-opens the circuit. Racing four "processes" at the half-open
    # moment, exactly one may send.
    start = threading.Barrier(4)
    served: list[str] = []

    def call(m: Any) -> None:
        start.wait()
        served.append(m.chat(HI).provider)

    threads = [threading.Thread(target=call, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sim.requests("groq")) - probes_before == 1
    assert served.count("gemini") == 4


def test_the_status_of_any_process_shows_every_process_usage(
    make_manager: ManagerFactory, url: str
) -> None:
    a, b = make_manager(state=url), make_manager(state=url)
    for _ in range(3):
        a.call_llm("s", "hi")
    for _ in range(2):
        b.call_llm("s", "hi")
    for m in (a, b):
        groq = m.get_provider_status()["providers"]["groq"]
        assert (groq["requests_this_minute"], groq["requests_today"]) == (5, 5)
    store = store_from_url(url)
    assert len(store.ledger_entries(limit=10)) == 5
    store.close()
