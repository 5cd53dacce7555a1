"""GuardedStore forwards every call to the real store and decides what an outage means for each:
a read admission needs fails closed, a write admission reads back is kept locally, a released
probe is a write after a call (never an error), a reset by hand must not claim success when the
shared store did not hear it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._errors import StorageError
from llmswitch._ledger import LedgerEntry
from llmswitch._quota import make_window
from llmswitch._state.base import (
    AdmissionView,
    HealthStore,
    LearnedLimitsStore,
    LedgerStore,
    Store,
    StoreLifecycle,
    WindowStore,
)
from llmswitch._state.guarded import GuardedStore
from llmswitch._state.memory import MemoryStore

T0 = 1_780_000_000.0
SCOPE = "model:groq/openai/gpt-oss-120b"


class FlakyStore(MemoryStore):
    """A memory store that can be made unreachable, standing in for a stopped Redis."""

    backend = "redis"

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _fail(self) -> None:
        if self.down:
            raise StorageError("Redis at 127.0.0.1:6379/0 is down", backend="redis")

    def release_probe(self, scope: str) -> None:
        self._fail()
        super().release_probe(scope)

    def clear_health(self, scope: str) -> None:
        self._fail()
        super().clear_health(scope)

    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        self._fail()
        return super().admission_view(provider_scope, key_scope, model_scope)


@pytest.fixture
def primary() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def guarded(primary: FlakyStore) -> GuardedStore:
    return GuardedStore(primary, clock=FakeClock(T0))


def test_calls_reach_the_real_store(primary: FlakyStore, guarded: GuardedStore) -> None:
    primary.trip(SCOPE, until=T0 + 60, kind="server_error", message="500", now=T0)
    assert primary.try_acquire_probe(SCOPE, now=T0 + 60, ttl=35)
    view = guarded.admission_view("provider:groq", "groq:GROQ_API_KEY", SCOPE)
    assert view.model_health is not None and view.model_health.open_until == T0 + 60
    guarded.release_probe(SCOPE)
    rec = primary.get_health(SCOPE)
    assert rec is not None and rec.probe_until == 0.0
    guarded.clear_health(SCOPE)
    rec = primary.get_health(SCOPE)
    assert rec is not None and (rec.open_until, rec.consecutive_failures) == (0.0, 0)


def test_while_down_a_released_probe_is_no_error_but_a_reset_is(
    primary: FlakyStore, guarded: GuardedStore
) -> None:
    primary.down = True
    guarded.release_probe(SCOPE)  # after a call: never fails it
    with pytest.raises(StorageError, match="unreachable"):
        guarded.clear_health(SCOPE)
    with pytest.raises(StorageError):
        guarded.admission_view("provider:groq", "groq:GROQ_API_KEY", SCOPE)


def test_fail_open_reads_the_local_model_circuit(primary: FlakyStore) -> None:
    guarded = GuardedStore(primary, fail_open=True, clock=FakeClock(T0))
    primary.down = True
    guarded.local.trip(SCOPE, until=T0 + 60, kind="timeout", message="slow", now=T0)
    view = guarded.admission_view("provider:groq", "groq:GROQ_API_KEY", SCOPE)
    assert view.model_health is not None and view.model_health.opened_at == T0


class DownStore(MemoryStore):
    """A memory store whose every ``Store`` method fails once ``down`` is set."""

    backend = "redis"
    down = False

    def __getattribute__(self, name: str) -> Any:
        if name in STORE_METHODS and object.__getattribute__(self, "down"):
            raise StorageError("Redis at 127.0.0.1:6379/0 is down", backend="redis")
        return object.__getattribute__(self, name)


STORE_METHODS = {n for n in dir(Store) if not n.startswith("_") and callable(getattr(Store, n))}
ENTRY = LedgerEntry(
    ts=T0, day="2026-05-28", provider="groq", key_alias="K", model="m", outcome="ok"
)
Call = Callable[[Store], object]
#: what each call does while the store is down and the guard fails closed
READS: dict[str, Call] = {
    "reserve": lambda s: s.reserve(SCOPE, [make_window("rpm", 3)], 10, now=T0),
    "usage": lambda s: s.usage(SCOPE, [make_window("rpm", 3)], now=T0),
    "get_block": lambda s: s.get_block(SCOPE, now=T0),
    "get_health": lambda s: s.get_health(SCOPE),
    "try_acquire_probe": lambda s: s.try_acquire_probe(SCOPE, now=T0, ttl=35),
    "get_learned_limits": lambda s: s.get_learned_limits(SCOPE),
    "usage_rows": lambda s: s.usage_rows(since_day="2026-05-28"),
    "rollup_rows": lambda s: s.rollup_rows(since_day="2026-05-28"),
    "ledger_entries": lambda s: s.ledger_entries(limit=5),
    "admission_view": lambda s: s.admission_view("provider:groq", SCOPE),
    "view_and_reserve": lambda s: s.view_and_reserve(
        "provider:groq",
        SCOPE,
        None,
        fingerprint="f",
        failures_to_trip=1,
        learned={},
        windows=[make_window("rpm", 3)],
        tokens=10,
        now=T0,
    ),
    "clear_health": lambda s: s.clear_health(SCOPE),  # a reset by hand
}
#: kept locally (what fail-open admission reads back), never an error
MIRRORED: dict[str, tuple[Call, Call]] = {
    "block": (
        lambda s: s.block(SCOPE, until=T0 + 60, reason="429"),
        lambda s: s.get_block(SCOPE, now=T0),
    ),
    "trip": (
        lambda s: s.trip(SCOPE, until=T0 + 60, kind="timeout", message="slow", now=T0),
        lambda s: s.get_health(SCOPE),
    ),
    "note_error": (
        lambda s: s.note_error(SCOPE, kind="rate_limited", message="429", now=T0),
        lambda s: s.get_health(SCOPE),
    ),
    "mark_auth_failed": (
        lambda s: s.mark_auth_failed(SCOPE, fingerprint="f", message="401", now=T0),
        lambda s: s.get_health(SCOPE),
    ),
    "put_learned_limits": (
        lambda s: s.put_learned_limits(SCOPE, {"rpm": 30}),
        lambda s: s.get_learned_limits(SCOPE) or None,
    ),
    "record": (lambda s: s.record(ENTRY), lambda s: s.ledger_entries() or None),
}
#: writes after a call that lift something: no error
LIFTS: dict[str, Call] = {
    "clear_block": lambda s: s.clear_block(SCOPE),
    "record_success": lambda s: s.record_success(SCOPE),
    "release_probe": lambda s: s.release_probe(SCOPE),
    "settle": lambda s: s.settle(SCOPE, "1", 10, now=T0),
    "release": lambda s: s.release(SCOPE, "1"),
    "settle_and_record": lambda s: s.settle_and_record(SCOPE, "1", 10, ENTRY, now=T0),
}


@pytest.fixture
def down() -> GuardedStore:
    primary = DownStore()
    primary.down = True
    return GuardedStore(primary, clock=FakeClock(T0))


@pytest.mark.parametrize("name", sorted(READS))
def test_while_down_failing_closed_a_read_admission_needs_raises(
    down: GuardedStore, name: str
) -> None:
    with pytest.raises(StorageError, match="unreachable"):
        READS[name](down)


@pytest.mark.parametrize("name", sorted(MIRRORED))
def test_while_down_a_write_admission_reads_back_is_kept_locally(
    down: GuardedStore, name: str
) -> None:
    write, read_back = MIRRORED[name]
    write(down)
    assert read_back(down.local) is not None


@pytest.mark.parametrize("name", sorted(LIFTS))
def test_while_down_a_write_after_a_call_is_no_error(down: GuardedStore, name: str) -> None:
    LIFTS[name](down)


def test_every_store_method_has_an_outage_rule() -> None:
    """A method added to a capability must be given a policy, not inherit a Store default."""
    lifecycle = {"check", "reset", "close", "add_secrets", "may_wait"}  # may_wait: no data
    assert set(READS) | set(MIRRORED) | set(LIFTS) | lifecycle == STORE_METHODS
    assert all(name in vars(GuardedStore) for name in STORE_METHODS)


@pytest.mark.parametrize(
    "capability", [WindowStore, HealthStore, LearnedLimitsStore, LedgerStore, StoreLifecycle]
)
def test_the_guard_is_every_capability(guarded: GuardedStore, capability: type) -> None:
    assert isinstance(guarded, capability)
