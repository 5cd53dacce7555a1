"""Circuits and the failure verdict: what a failure means for the target and for the call.

Everything here is pure: a health record, a policy and a clock in, a decision out. The store keeps
the records so every process sees the same circuits; ``call.py`` carries the verdicts out.

Circuits are kept per **target**: a provider (connection failures: the host is down for every
model), a model on a provider (5xx, timeouts, malformed replies: an OpenRouter model served by
another upstream is unrelated to its neighbour), and a key (auth).

``closed``
    Traffic flows. With ``failures_to_trip`` > 1, failures below that count keep it closed.
``open`` (cooling down)
    The target failed; it is out until ``open_until``. The first opening lasts
    ``probe_after_seconds`` when set (then each failed probe doubles it, up to
    ``cooldown_seconds``), else ``cooldown_seconds`` (the seed's 300 s). A provider's own
    ``Retry-After`` replaces our figure. A later failure never shortens a cooldown.
``half_open``
    The cooldown has ended but the last outcome was a failure: exactly one request (the probe,
    taken atomically in the store) goes through. Its success closes the circuit at once; its
    failure opens it again and gives the probe slot back at once.
``auth_failed`` (per key)
    The provider refused this key; disabled until the key's value changes.

Rate limits are not circuit failures: a 429 blocks the key until its window resets (``quota``).
Bad requests never trip anything (pybreaker's ``exclude=``): another provider would refuse the
same request and burn its quota for nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum, StrEnum

from llmswitch._types import FailureKind


@dataclass(slots=True)
class HealthRecord:
    """Circuit state of one scope; ``health.py`` decides what it means.

    ``open_until`` > now: cooling down. ``auth_failed_fingerprint`` set: the key with that
    fingerprint was refused by the provider; a different key value clears it. ``opened_at`` is
    when the current run of failures opened the circuit (0: closed) and ``opened_by`` the kind
    of the failure that did, so status can say since when and why a target is out even after
    later failures (a failed probe, a timeout after a 5xx) overwrote ``last_error_*``.
    """

    open_until: float = 0.0
    consecutive_failures: int = 0
    last_error_kind: str | None = None
    last_error_message: str | None = None
    last_error_at: float | None = None
    auth_failed_fingerprint: str | None = None
    probe_until: float = 0.0  # a probe is in flight until this time (one process holds it)
    opened_at: float = 0.0  # the first failure of the current run (kept while it stays open)
    opened_by: str | None = None  # that failure's kind


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Assessment:
    state: CircuitState
    until: float | None = None  # when OPEN: the end of the cooldown


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """How a target's circuit opens and comes back (global settings, overridden per provider)."""

    cooldown_seconds: float = 300.0
    probe_after_seconds: float = 0.0  # 0: the first probe only after cooldown_seconds (the seed)
    failures_to_trip: int = 1


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries on the same target before failing over (default none: the seed fails over)."""

    retries: int = 0
    backoff_seconds: float = 0.25  # the first backoff; doubles per retry, plus jitter
    backoff_max_seconds: float = 4.0
    retry_after_max_seconds: float = 5.0  # a longer Retry-After means: fail over instead
    retry_timeouts: bool = False  # a timeout already cost the caller a full timeout


def assess_circuit(
    record: HealthRecord | None, *, now: float, failures_to_trip: int = 1
) -> Assessment:
    """A target's circuit: closed, open until a time, or half-open (needs the probe)."""
    if record is None or record.consecutive_failures < max(1, failures_to_trip):
        return Assessment(CircuitState.CLOSED)
    if record.open_until > now:
        return Assessment(CircuitState.OPEN, record.open_until)
    return Assessment(CircuitState.HALF_OPEN)


def key_auth_failed(record: HealthRecord | None, fingerprint: str) -> bool:
    """True while the provider's refusal applies to this very key value."""
    return record is not None and record.auth_failed_fingerprint == fingerprint


def open_seconds(failures: int, policy: BreakerPolicy, retry_after: float | None) -> float:
    """How long a target stays out after its ``failures``-th consecutive failure (0: not out).

    Below ``failures_to_trip`` it stays closed. The provider's ``Retry-After`` wins. Otherwise the
    first opening lasts ``probe_after_seconds`` (when set) and each failed probe doubles it, up to
    ``cooldown_seconds``; without ``probe_after_seconds`` every opening lasts the cooldown.
    """
    if failures < max(1, policy.failures_to_trip):
        return 0.0
    if retry_after is not None and retry_after > 0:
        return retry_after
    cooldown, first = policy.cooldown_seconds, policy.probe_after_seconds
    if first <= 0 or first >= cooldown:
        return cooldown
    doublings = min(failures - max(1, policy.failures_to_trip), 30)
    return float(min(cooldown, first * 2**doublings))


def backoff(retry_no: int, policy: RetryPolicy, *, rand: Callable[[], float]) -> float:
    """Seconds before retry number ``retry_no`` (0-based): exponential, capped, jittered.

    Jitter spreads the retries of many callers hit by the same blip (stamina's formula:
    ``min(max, initial * 2**n) + uniform(0, initial)``).
    """
    base = min(policy.backoff_max_seconds, policy.backoff_seconds * 2**retry_no)
    return float(base + rand() * policy.backoff_seconds)


system_random: Callable[[], float] = random.random


# -- the verdict table -----------------------------------------------------------------------------


class Act(Enum):
    RETRY = "retry the same target"
    FAIL_OVER = "fail over"
    LARGER_CONTEXT = "try a model with a larger context"
    FAIL = "fail the call"


class Target(Enum):
    """What a failure puts out of service."""

    NONE = "nothing"
    MODEL = "the model on this provider"
    PROVIDER = "the provider"
    KEY_BLOCK = "the key until its window resets"
    KEY_DAY = "the key until the provider's day ends"
    KEY_AUTH = "the key until its value changes"


@dataclass(frozen=True, slots=True)
class Verdict:
    act: Act
    target: Target
    wait: float = 0.0  # before a retry


#: What each failure kind puts out of service when it is not retried.
_TARGET = {
    FailureKind.RATE_LIMITED: Target.KEY_BLOCK,
    FailureKind.QUOTA_EXHAUSTED: Target.KEY_DAY,
    FailureKind.AUTH_FAILED: Target.KEY_AUTH,
    FailureKind.SERVER_ERROR: Target.MODEL,
    FailureKind.TIMEOUT: Target.MODEL,
    FailureKind.MALFORMED_REPLY: Target.MODEL,
    FailureKind.CONNECTION: Target.PROVIDER,
}
_RETRYABLE = frozenset(
    {FailureKind.SERVER_ERROR, FailureKind.CONNECTION, FailureKind.MALFORMED_REPLY}
)


def target_of(kind: FailureKind) -> Target:
    """What a failure of ``kind`` puts out of service when the call fails over."""
    return _TARGET.get(kind, Target.MODEL)


def verdict(
    kind: FailureKind,
    *,
    retries_done: int,
    policy: RetryPolicy,
    retry_after: float | None = None,
    local: bool = False,
    rand: Callable[[], float] = system_random,
) -> Verdict:
    """What to do about one failed attempt.

    Args:
        kind: the failure's kind.
        retries_done: retries already spent on this target in this call.
        policy: the target's retry policy.
        retry_after: the provider's ``Retry-After``, if any.
        local: the cause is on our side (``errors.LocalFault``): nothing is put out of service
            and the call fails at once naming the cause; another provider would fail the same way.
        rand: uniform [0, 1) for the jitter (tests pass a constant).
    """
    if local:
        return Verdict(Act.FAIL, Target.NONE)
    if kind in (FailureKind.BAD_REQUEST, FailureKind.CONTENT_FILTER):
        return Verdict(Act.FAIL, Target.NONE)
    if kind is FailureKind.CONTEXT_TOO_LONG:
        return Verdict(Act.LARGER_CONTEXT, Target.NONE)
    retryable = kind in _RETRYABLE or (kind is FailureKind.TIMEOUT and policy.retry_timeouts)
    if retryable and retries_done < policy.retries:
        if retry_after is not None and retry_after > 0:
            if retry_after <= policy.retry_after_max_seconds:
                return Verdict(Act.RETRY, Target.NONE, retry_after)
        else:
            return Verdict(Act.RETRY, Target.NONE, backoff(retries_done, policy, rand=rand))
    return Verdict(Act.FAIL_OVER, target_of(kind))


# -- record transitions (the stores apply these; redis mirrors them in lua/health.lua) -------------


def tripped(
    rec: HealthRecord | None, *, until: float, kind: str, message: str, now: float
) -> HealthRecord:
    """A failure: one more in a row, and the cooldown ends at the later of the two ends.

    The first failure of a run stamps ``opened_at`` and ``opened_by``; later ones (failed probes
    included) keep them, so status says since when and why the target has been out, not when it
    last failed.
    """
    rec = replace(rec) if rec is not None else HealthRecord()
    if rec.consecutive_failures == 0:
        rec.opened_at, rec.opened_by = now, kind
    rec.open_until = max(rec.open_until, until)
    rec.consecutive_failures += 1
    return noted(rec, kind=kind, message=message, now=now)


def noted(rec: HealthRecord | None, *, kind: str, message: str, now: float) -> HealthRecord:
    """The last error, for status; it does not count as a circuit failure."""
    rec = replace(rec) if rec is not None else HealthRecord()
    rec.last_error_kind = kind
    rec.last_error_message = message
    rec.last_error_at = now
    return rec


def auth_failed(
    rec: HealthRecord | None, *, fingerprint: str, message: str, now: float
) -> HealthRecord:
    rec = noted(rec, kind="auth_failed", message=message, now=now)
    rec.auth_failed_fingerprint = fingerprint
    return rec


def succeeded(rec: HealthRecord | None) -> HealthRecord:
    """Closed again; the last error stays visible for status."""
    rec = replace(rec) if rec is not None else HealthRecord()
    rec.open_until = 0.0
    rec.consecutive_failures = 0
    rec.auth_failed_fingerprint = None
    rec.probe_until = 0.0
    rec.opened_at, rec.opened_by = 0.0, None
    return rec


def cleared(rec: HealthRecord) -> HealthRecord:
    """Closed by hand: the same end state as a success (the last error stays for status).

    Its own name so that a success and a manual reset can part ways without anyone hunting for
    which callers meant which.
    """
    return succeeded(rec)


def probe_released(rec: HealthRecord) -> HealthRecord:
    """The probe slot free again; nothing else changes."""
    return replace(rec, probe_until=0.0)
