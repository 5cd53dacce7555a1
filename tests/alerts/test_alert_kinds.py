"""Each alert kind fires exactly once per crossing, through a real manager on the simulator.

Time moves with the shared ``FakeClock``; nothing sleeps. Events the lead's code emits elsewhere
(``NoProviderAvailable``, ``StoreHealthChanged``) are fed to the manager's sinks directly.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from llmswitch import Alert, AllProvidersFailed
from llmswitch._clock import FakeClock
from llmswitch._events import CallFinished, NoProviderAvailable, StoreHealthChanged, emit
from llmswitch._manager import LLMProviderManager
from llmswitch._state.memory import MemoryStore
from tests.conftest import SIM_KEYS, ManagerFactory

HI = [{"role": "user", "content": "hi"}]


def kinds(alerts: list[Alert], kind: str, **match: Any) -> list[Alert]:
    return [
        a for a in alerts if a.kind == kind and all(getattr(a, k) == v for k, v in match.items())
    ]


def manager_with_alerts(
    make_manager: ManagerFactory, alerts_toml: str = "", **kwargs: Any
) -> tuple[LLMProviderManager, list[Alert]]:
    seen: list[Alert] = []
    llm = make_manager(extra=f"[alerts]\n{alerts_toml}", on_alert=seen.append, **kwargs)
    return llm, seen


def test_a_day_window_alerts_at_80_then_95_once_each_and_rearms_after_the_reset(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm, seen = manager_with_alerts(make_manager, providers={"groq": {"requests_per_day": 10}})
    served = []
    for _ in range(12):  # 8 -> 80%; 9 is where the 0.95 soft limit stops admission; then gemini
        served.append(llm.chat(HI).provider)
        clock.advance(5.0)
    assert served[:9] == ["groq"] * 9 and set(served[9:]) == {"gemini"}
    rpd = kinds(seen, "window_threshold", provider="groq", window="rpd")
    assert [(a.threshold, a.used, a.limit, a.key_alias) for a in rpd] == [
        (0.8, 8, 10, "GROQ_API_KEY"),
        (0.95, 9, 10, "GROQ_API_KEY"),
    ]
    assert rpd[0].resets_at is not None and rpd[0].resets_at > clock()
    assert "groq key GROQ_API_KEY: rpd at 80%" in rpd[0].message
    clock.advance(86_400.0)  # the rolling day slides past every request: re-armed
    for _ in range(9):
        llm.chat(HI)
        clock.advance(5.0)
    rpd = kinds(seen, "window_threshold", provider="groq", window="rpd")
    assert [a.threshold for a in rpd] == [0.8, 0.95, 0.8, 0.95]


def test_day_left_fires_once_when_traffic_leaves_a_key_for_the_rest_of_its_day(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm, seen = manager_with_alerts(make_manager, providers={"groq": {"requests_per_day": 20}})
    served = []
    for _ in range(22):  # the 0.95 soft limit stops groq at 19 of 20
        served.append(llm.chat(HI).provider)
        clock.advance(5.0)
    assert served[:19] == ["groq"] * 19 and set(served[19:]) == {"gemini"}
    [left] = kinds(seen, "day_left", provider="groq")
    assert (left.window, left.used, left.limit, left.key_alias) == ("rpd", 19, 20, "GROQ_API_KEY")
    assert "no more traffic goes to it until" in left.message
    assert llm.get_provider_status()["providers"]["groq"]["reason"] == "day_soft_limit"
    clock.advance(86_400.0)  # the rolling day slides past: re-armed, and fires again at the cap
    for _ in range(19):
        llm.chat(HI)
        clock.advance(5.0)
    assert len(kinds(seen, "day_left", provider="groq")) == 2


def test_a_minute_window_alerts_only_when_sustained_and_once(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm, seen = manager_with_alerts(make_manager, providers={"groq": {"requests_per_minute": 10}})

    def steady(calls: int) -> list[int]:
        """One call every 7 s keeps 9 of 10 requests in the sliding minute (90%)."""
        counts = []
        for _ in range(calls):
            assert llm.chat(HI).provider == "groq"
            clock.advance(7.0)
            counts.append(len(kinds(seen, "window_threshold", window="rpm")))
        return counts

    counts = steady(25)
    first = counts.index(1)  # 80% is reached at the 8th call (t=49 s); 60 s later it alerts
    assert 15 <= first <= 17, counts
    assert counts[-1] == 1, "a sustained window alerts once, not on every check"
    rpm = kinds(seen, "window_threshold", window="rpm")[0]
    assert (rpm.threshold, rpm.provider, rpm.limit) == (0.8, "groq", 10)
    assert "(sustained)" in rpm.message
    clock.advance(120.0)  # the minute empties: the next check re-arms
    assert steady(25)[-1] == 2


def test_a_short_burst_in_a_minute_window_does_not_alert(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm, seen = manager_with_alerts(make_manager, providers={"groq": {"requests_per_minute": 10}})
    for _ in range(9):
        llm.chat(HI)
        clock.advance(5.0)
    clock.advance(60.0)
    llm.chat(HI)
    assert kinds(seen, "window_threshold") == []


def test_cooldown_once_recovered_once_and_again_after_recovery(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm, seen = manager_with_alerts(make_manager)
    sim.set_fault("groq", {"kind": "status", "status": 503})
    for _ in range(3):
        assert llm.chat(HI).provider == "gemini"
        clock.advance(10.0)
    clock.advance(300.0)
    assert llm.chat(HI).provider == "gemini"  # the probe fails again: still one cooldown alert
    assert [a.kind for a in seen] == ["cooldown"]
    cooldown = seen[0]
    assert cooldown.provider == "groq" and cooldown.resets_at == pytest.approx(clock() + 300.0)
    assert "server_error" in cooldown.message
    sim.clear_faults("groq")
    clock.advance(301.0)
    assert llm.chat(HI).provider == "groq"
    assert llm.chat(HI).provider == "groq"
    assert [a.kind for a in seen] == ["cooldown", "recovered"]
    sim.set_fault("groq", {"kind": "status", "status": 500})
    llm.chat(HI)
    assert [a.kind for a in seen] == ["cooldown", "recovered", "cooldown"]


def test_auth_failed_once_per_key(make_manager: ManagerFactory, sim: Any, clock: FakeClock) -> None:
    llm, seen = manager_with_alerts(make_manager)
    sim.revoke_key("groq", SIM_KEYS["GROQ_API_KEY"])
    for _ in range(3):
        assert llm.chat(HI).provider == "gemini"
        clock.advance(10.0)
    auth = kinds(seen, "auth_failed")
    assert [(a.provider, a.key_alias) for a in auth] == [("groq", "GROQ_API_KEY")]
    assert "refused key GROQ_API_KEY" in auth[0].message


def test_budget_alert_once_per_day(make_manager: ManagerFactory, clock: FakeClock) -> None:
    llm, seen = manager_with_alerts(
        make_manager, "check_interval_seconds = 0", providers={"openai": {"daily_budget_usd": 1e-4}}
    )

    def spend_until_refused() -> int:
        for calls in range(1, 40):
            try:
                llm.chat(HI, provider_name="openai", strict=True, max_tokens=20)
            except AllProvidersFailed:
                return calls
            clock.advance(1.0)
        raise AssertionError("the budget never stopped openai")

    assert spend_until_refused() > 3
    budget = kinds(seen, "budget_threshold")
    assert len(budget) == 1
    assert budget[0].provider == "openai" and budget[0].limit == 1e-4
    assert budget[0].used is not None and 0.8e-4 <= budget[0].used <= 1e-4
    assert budget[0].window == "budget_usd" and budget[0].threshold == 0.8
    clock.advance(86_400.0)  # a new UTC day: spending starts over, the alert re-arms
    spend_until_refused()
    assert len(kinds(seen, "budget_threshold")) == 2


def test_all_unavailable_once_until_a_provider_serves_again(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm, seen = manager_with_alerts(make_manager)
    for _ in range(3):
        emit(llm.sinks, NoProviderAvailable(clock(), "all 5 provider attempts failed", 42.0))
        clock.advance(1.0)
    assert [a.kind for a in seen] == ["all_unavailable"]
    assert seen[0].resets_at == pytest.approx(seen[0].ts + 42.0)
    assert "every provider is unavailable: all 5 provider attempts failed" in seen[0].message
    emit(llm.sinks, CallFinished(clock(), None, None, 0.1, 5, False))  # another failure: no clear
    llm.chat(HI)  # a real call served: cleared
    llm.chat(HI)
    emit(llm.sinks, NoProviderAvailable(clock(), "again", None))
    assert [a.kind for a in seen] == ["all_unavailable", "available_again", "all_unavailable"]
    assert seen[1].provider == "groq"


def test_store_degraded_once_then_recovered(make_manager: ManagerFactory, clock: FakeClock) -> None:
    llm, seen = manager_with_alerts(make_manager)
    down = StoreHealthChanged(
        clock(), "redis", False, "Error 111 connecting to redis://:pw@127.0.0.1:6390", False
    )
    for _ in range(3):
        emit(llm.sinks, down)
    emit(llm.sinks, StoreHealthChanged(clock(), "redis", True, "", False))
    emit(llm.sinks, StoreHealthChanged(clock(), "redis", True, "", False))
    emit(llm.sinks, StoreHealthChanged(clock(), "redis", False, "timeout", True))
    assert [a.kind for a in seen] == ["store_degraded", "store_recovered", "store_degraded"]
    assert "pw@" not in seen[0].message and "redis://***@127.0.0.1:6390" in seen[0].message
    assert "refused" in seen[0].message and "fail_open" in seen[2].message


def test_status_lists_recent_alerts_newest_first_and_bounded(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm, _ = manager_with_alerts(make_manager, "recent_limit = 3")
    for i in range(5):
        emit(llm.sinks, StoreHealthChanged(clock(), "sqlite", i % 2 == 1, f"d{i}", False))
        clock.advance(1.0)
    alerts = llm.get_provider_status()["alerts"]
    assert [a["kind"] for a in alerts] == ["store_degraded", "store_recovered", "store_degraded"]
    assert [a["ts"] for a in alerts] == sorted((a["ts"] for a in alerts), reverse=True)
    assert set(alerts[0]) == {
        "kind", "provider", "key_alias", "window", "used", "limit", "resets_at", "threshold",
        "message", "ts", "request_id",
    }  # fmt: skip


def test_every_alert_is_a_warning_log_line(
    make_manager: ManagerFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    llm = make_manager()
    with caplog.at_level(logging.WARNING, logger="llmswitch.alerts"):
        emit(llm.sinks, NoProviderAvailable(clock(), "nothing left", None))
    [record] = [r for r in caplog.records if r.name == "llmswitch.alerts"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "llmswitch alert [all_unavailable]: every provider is unavailable: nothing left"
    )


def test_a_raising_callback_never_breaks_a_call(
    make_manager: ManagerFactory, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(alert: Alert) -> None:
        raise RuntimeError("handler bug")

    later: list[Alert] = []
    llm = make_manager(on_alert=broken)
    llm.add_alert_handler(later.append)
    sim.set_fault("groq", {"kind": "status", "status": 503})
    assert llm.chat(HI).provider == "gemini"
    assert [a.kind for a in later] == ["cooldown"]  # the next handler still ran
    assert "alert handler" in caplog.text and "handler bug" in caplog.text


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.usage_reads = 0

    def usage(self, *args: Any, **kwargs: Any) -> Any:
        self.usage_reads += 1
        return super().usage(*args, **kwargs)


def test_usage_is_read_at_most_once_per_interval_per_key(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    store = CountingStore()
    llm = make_manager(store=store)
    for _ in range(20):
        llm.chat(HI)
    assert store.usage_reads == 1
    clock.advance(4.9)
    llm.chat(HI)
    assert store.usage_reads == 1
    clock.advance(0.1)
    llm.chat(HI)
    assert store.usage_reads == 2
