"""Typed events the router emits, and the sink protocol that receives them.

Observability goes through injected sinks, never module globals: the ledger is written by the
router itself (it is accounting, not observability), while Prometheus metrics, alerts, logs and
the dashboard subscribe as sinks passed to the manager. A sink must be quick and must not raise;
``emit`` shields the call path from a faulty sink anyway. Events of a call carry its
``request_id`` (``""`` for none), so an alert or a log line can name the call that caused it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from llmswitch._types import Attempt

log = logging.getLogger("llmswitch")


@dataclass(frozen=True, slots=True)
class AttemptFinished:
    """One provider key was tried (or skipped without a call, ``sent=False``)."""

    ts: float
    attempt: Attempt
    sent: bool
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class Failover:
    """The router moved on from ``from_provider`` because of ``kind``; ``action`` says how."""

    ts: float
    from_provider: str
    kind: str
    action: str
    request_no: int
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class CallFinished:
    """A whole call ended: served by ``provider`` or failed (``provider`` is None)."""

    ts: float
    provider: str | None
    model: str | None
    latency_s: float
    attempts: int
    stream: bool
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class CircuitChanged:
    """A provider entered cooldown (``state="open"``) or recovered (``"closed"``); or a key failed
    auth (``"auth_failed"``)."""

    ts: float
    provider: str
    state: str
    until: float | None
    kind: str | None
    key_alias: str | None = None
    model: str | None = None  # set when the circuit is one model's on the provider
    request_id: str = ""  # the call whose attempt changed it


@dataclass(frozen=True, slots=True)
class StoreHealthChanged:
    """The state store became unreachable (``ok=False``) or came back (``ok=True``).

    ``fail_open`` says what the router does meanwhile: admit on per-process limits (True) or
    admit nothing whose limits it cannot check (False, the default).
    """

    ts: float
    backend: str
    ok: bool
    detail: str
    fail_open: bool


@dataclass(frozen=True, slots=True)
class NoProviderAvailable:
    """A call found every provider unavailable at once (rate limited, cooling down, failed...).

    ``retry_after`` is the earliest a provider should take a call again, when one is known.
    """

    ts: float
    message: str
    retry_after: float | None
    request_id: str = ""


Event = (
    AttemptFinished
    | Failover
    | CallFinished
    | CircuitChanged
    | StoreHealthChanged
    | NoProviderAvailable
)


class Sink(Protocol):
    def __call__(self, event: Event) -> None: ...


def emit(sinks: Iterable[Sink], event: Event) -> None:
    for sink in sinks:
        try:
            sink(event)
        except Exception:  # a broken sink must never break a call
            log.exception("llmswitch: event sink %r failed on %s", sink, type(event).__name__)
