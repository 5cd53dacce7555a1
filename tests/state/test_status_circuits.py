"""Circuits as the status shows them and as ``reset_circuit`` closes them: the provider's own,
each key's, and each model's on the provider, read from the store the router writes."""

from __future__ import annotations

import pytest

from llmswitch._clock import FakeClock
from llmswitch._errors import ConfigError, StorageError
from llmswitch._health import HealthRecord
from llmswitch._state.memory import MemoryStore
from tests.conftest import ManagerFactory

BIG, SMALL = "openai/gpt-oss-120b", "openai/gpt-oss-20b"  # groq's models; BIG is the default
#: Every key a provider's status had before model circuits, then the three they added, then
#: why it takes no calls, until when, and which day its "today" counters count.
KEYS = {
    *("status", "priority", "requests_today", "requests_this_minute"),
    *("rate_limit_per_minute", "rate_limit_per_day", "is_current"),  # the seed's
    *("free", "api", "default_model", "daily_budget_usd", "windows", "cooldown_until"),
    *("cooldown_remaining_s", "circuit", "last_error", "tokens_today", "cost_today_usd"),
    *("latency_ms", "keys", "models"),
    *("opened_at", "opened_by"),
    *("reason", "available_at", "today"),
    "budget",  # a paid provider's daily budget as admission counts it (None without one)
}


def test_a_model_circuit_shows_under_models_and_leaves_the_provider_active(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm = make_manager()
    now = clock()
    llm.store.trip(
        f"model:groq/{SMALL}", until=now + 60, kind="server_error", message="500", now=now
    )
    groq = llm.get_provider_status()["providers"]["groq"]
    assert set(groq) == KEYS
    assert list(groq["models"]) == [BIG, SMALL]
    assert groq["models"][SMALL] == {
        "circuit": "open",
        "cooldown_until": now + 60,
        "opened_at": now,
        "last_error_kind": "server_error",
        "last_error_at": now,
        "last_error_message": "500",
    }
    assert groq["models"][BIG]["circuit"] == "closed"
    assert groq["models"][BIG]["cooldown_until"] is None
    assert (groq["status"], groq["circuit"], groq["opened_at"]) == ("available", "closed", None)
    assert groq["last_error"] == {"kind": "server_error", "message": "500", "time": now}
    clock.advance(61)
    half = llm.get_provider_status()["providers"]["groq"]["models"][SMALL]
    assert (half["circuit"], half["cooldown_until"], half["opened_at"]) == ("half_open", None, now)


def test_an_open_default_model_cools_the_provider_down(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm = make_manager()
    now = clock()
    llm.store.trip(f"model:groq/{BIG}", until=now + 120, kind="timeout", message="slow", now=now)
    groq = llm.get_provider_status()["providers"]["groq"]
    assert (groq["status"], groq["circuit"]) == ("cooling_down", "closed")
    assert (groq["cooldown_until"], groq["cooldown_remaining_s"]) == (now + 120, 120.0)
    assert llm.current_provider() != "groq"


def test_the_provider_circuit_says_when_and_by_what_it_opened(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm = make_manager()
    now = clock()
    llm.store.trip("provider:groq", until=now + 30, kind="connection_failed", message="x", now=now)
    clock.advance(31)
    llm.store.trip("provider:groq", until=now + 91, kind="timeout", message="probe", now=now + 31)
    groq = llm.get_provider_status()["providers"]["groq"]
    assert (groq["status"], groq["circuit"]) == ("cooling_down", "open")
    assert (groq["opened_at"], groq["opened_by"]) == (now, "connection_failed")
    assert groq["last_error"]["kind"] == "timeout"  # the failed probe, while opened_by stays


def test_reset_circuit_clears_a_provider_or_one_model(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm = make_manager()
    now = clock()
    scopes = ["provider:groq", "groq:GROQ_API_KEY", f"model:groq/{BIG}", f"model:groq/{SMALL}"]
    for scope in scopes:
        llm.store.trip(scope, until=now + 300, kind="server_error", message="503", now=now)
    assert llm.reset_circuit(f"groq/{SMALL}") == [f"model:groq/{SMALL}"]
    assert llm.get_provider_status()["providers"]["groq"]["models"][SMALL]["circuit"] == "closed"
    assert llm.get_provider_status()["providers"]["groq"]["status"] == "cooling_down"
    assert llm.reset_circuit("groq") == scopes
    groq = llm.get_provider_status()["providers"]["groq"]
    assert (groq["status"], groq["circuit"], groq["opened_at"]) == ("available", "closed", None)
    rec = llm.store.get_health("provider:groq")
    assert rec is not None and rec.last_error_message == "503"  # kept for the status


def test_reset_circuit_names_what_is_valid(make_manager: ManagerFactory) -> None:
    llm = make_manager()
    with pytest.raises(ConfigError, match="configured providers: groq, gemini"):
        llm.reset_circuit("grok")
    with pytest.raises(ConfigError, match=f"its models: {BIG}, {SMALL}"):
        llm.reset_circuit("groq/gpt-oss-120b")
    with pytest.raises(ConfigError, match="no model ''"):
        llm.reset_circuit("groq/")


class Unreadable(MemoryStore):
    """A store whose health cannot be read (a stopped Redis, as far as status can tell)."""

    def get_health(self, scope: str) -> HealthRecord | None:
        raise StorageError("Redis at 127.0.0.1:6379/0 is down", backend="redis")


def test_an_unreadable_store_degrades_the_provider_and_its_models(
    make_manager: ManagerFactory,
) -> None:
    groq = make_manager(store=Unreadable()).get_provider_status()["providers"]["groq"]
    assert set(groq) == KEYS
    assert (groq["status"], groq["circuit"], groq["opened_at"]) == ("degraded", "unknown", None)
    assert [m["circuit"] for m in groq["models"].values()] == ["unknown", "unknown"]
