"""GuardedStore forwards the circuit calls a reset and a failed probe make, and decides what an
outage means for each: a released probe is a write after a call (never an error), a reset by
hand must not claim success when the shared store did not hear it."""

from __future__ import annotations

import pytest

from llmswitch.clock import FakeClock
from llmswitch.errors import StorageError
from llmswitch.state.base import AdmissionView
from llmswitch.state.guarded import GuardedStore
from llmswitch.state.memory import MemoryStore

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
