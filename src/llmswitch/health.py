"""Circuit state per provider and auth state per key, decided from a ``HealthRecord`` and a clock.

A small state machine (pure; the store keeps the record so every process sees the same state):

``closed``
    No recent failure: traffic flows.
``open`` (cooling down)
    A server error, timeout, dropped connection or garbled reply opened the circuit until
    ``open_until``: ``cooldown_seconds`` (default 300) or what the provider said (``Retry-After``).
    A later failure never shortens it (the store keeps the later end).
``half_open``
    The cooldown has ended but the last outcome was a failure: exactly one request (the probe,
    taken atomically in the store) goes through. Its success closes the circuit; its failure opens
    it again. Every other caller skips the provider meanwhile.
``auth_failed`` (per key)
    The provider refused this key. It stays disabled until the key's value changes (its
    fingerprint differs), i.e. until the configuration is fixed; no traffic, no probes.

Rate limits are not circuit failures: a 429 blocks the key until its window resets (see
``quota``), it does not cool the provider down. Bad requests never trip anything (pybreaker's
``exclude=``): another provider would refuse the same request and burn its quota for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from llmswitch.state.base import HealthRecord
from llmswitch.types import FailureKind


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True, slots=True)
class Assessment:
    state: CircuitState
    until: float | None = None  # when OPEN: the end of the cooldown

    @property
    def usable(self) -> bool:
        return self.state in (CircuitState.CLOSED, CircuitState.HALF_OPEN)


def assess_circuit(record: HealthRecord | None, *, now: float) -> Assessment:
    """The provider-wide circuit: closed, open until a time, or half-open (needs the probe)."""
    if record is None or record.consecutive_failures == 0:
        return Assessment(CircuitState.CLOSED)
    if record.open_until > now:
        return Assessment(CircuitState.OPEN, record.open_until)
    return Assessment(CircuitState.HALF_OPEN)


def key_auth_failed(record: HealthRecord | None, fingerprint: str) -> bool:
    """True while the provider's refusal applies to this very key value."""
    return record is not None and record.auth_failed_fingerprint == fingerprint


TRIPPING_KINDS = frozenset(
    {
        FailureKind.SERVER_ERROR,
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.MALFORMED_REPLY,
    }
)


def cooldown_until(*, now: float, cooldown_seconds: float, retry_after: float | None) -> float:
    """End of a cooldown: the provider's own ``Retry-After`` when it gave one, else our default."""
    if retry_after is not None and retry_after > 0:
        return now + retry_after
    return now + cooldown_seconds
