"""Fault injection: what goes wrong, for whom, for how long.

A fault is a small dict (or a string shortcut) attached to a provider, optionally to one model of
it, so a provider can host a healthy and a broken model side by side. ``FaultBook.pick`` decides
per request which fault, if any, applies; it consumes ``count`` and honours ``for_seconds`` (a
schedule measured on the simulator's clock from the moment the fault was set). The full list of
kinds and fields is in the package docstring (``llmswitch.simulator``).
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {
        "status",
        "error_rate",
        "rate_limit",
        "quota_exhausted",
        "reset",
        "hang",
        "slow_first_token",
        "cut_stream",
        "stall",
        "malformed_sse",
        "no_done",
        "error_in_200",
        "context_length",
        "content_filter",
        "reject_prefill",
    }
)
STREAM_ONLY = frozenset({"cut_stream", "stall", "malformed_sse", "no_done"})
PREFILL_ONLY = frozenset({"reject_prefill"})  # only requests ending in an assistant turn
_FIELDS = frozenset(
    {
        "kind",
        "status",
        "rate",
        "seed",
        "retry_after",
        "seconds",
        "after_chunks",
        "for_seconds",
        "count",
        "model",
        "provider",
    }
)


class FaultError(ValueError):
    """A fault description the simulator cannot understand; the message says which field."""


@dataclass(slots=True)
class Fault:
    """One armed fault; see the package docstring for the meaning of each field."""

    kind: str
    status: int = 503
    rate: float = 1.0
    retry_after: float | None = None
    seconds: float = 1.0
    after_chunks: int = 2
    for_seconds: float | None = None
    count: int | None = None
    set_at: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    def active(self, now: float) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        return self.for_seconds is None or now < self.set_at + self.for_seconds

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("status", "rate", "retry_after", "seconds", "after_chunks"):
            out[name] = getattr(self, name)
        out["for_seconds"], out["count"] = self.for_seconds, self.count
        return out


def parse_fault(spec: dict[str, Any] | str | int, *, now: float) -> Fault:
    """Build a ``Fault`` from a dict, or a shortcut such as ``"503"``, ``503`` or ``"hang"``."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        spec = {"kind": "status", "status": int(spec)}
    elif isinstance(spec, str):
        spec = {"kind": spec}
    unknown = set(spec) - _FIELDS
    if unknown:
        raise FaultError(f"unknown fault field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}")
    kind = str(spec.get("kind", ""))
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind {kind!r}; known: {sorted(KINDS)}")
    try:
        fault = Fault(
            kind=kind,
            status=int(spec.get("status", 500 if kind == "error_rate" else 503)),
            rate=float(spec.get("rate", 1.0)),
            retry_after=_opt_float(spec.get("retry_after")),
            seconds=float(spec.get("seconds", 1.0)),
            after_chunks=int(spec.get("after_chunks", 2)),
            for_seconds=_opt_float(spec.get("for_seconds")),
            count=None if spec.get("count") is None else int(spec["count"]),
            set_at=now,
            rng=random.Random(spec.get("seed", 0)),
        )
    except (TypeError, ValueError) as exc:
        raise FaultError(f"bad value in fault {spec!r}: {exc}") from exc
    if not 0.0 <= fault.rate <= 1.0:
        raise FaultError(f"fault rate must be within 0..1, got {fault.rate}")
    return fault


def retry_after_headers(fault: Fault) -> dict[str, str]:
    """The ``Retry-After`` a ``status``/``error_rate`` fault with ``retry_after`` adds to its 5xx.

    Overloaded providers and their proxies send one on a 503; whole seconds, never 0.
    """
    if fault.retry_after is None:
        return {}
    return {"retry-after": str(max(1, math.ceil(fault.retry_after)))}


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


class FaultBook:
    """The armed faults, keyed by (provider, model or None); thread-safe."""

    def __init__(self) -> None:
        self._faults: dict[tuple[str, str | None], Fault] = {}
        self._lock = threading.Lock()

    def set(self, provider: str, fault: Fault, model: str | None = None) -> None:
        with self._lock:
            self._faults[(provider, model)] = fault

    def clear(self, provider: str | None = None, model: str | None = None) -> None:
        with self._lock:
            for slot in list(self._faults):
                if provider is None or (slot[0] == provider and (model in (None, slot[1]))):
                    del self._faults[slot]

    def pick(
        self, provider: str, model: str, *, now: float, stream: bool, prefill: bool = False
    ) -> Fault | None:
        """The fault that hits this request (consuming one of its ``count``), or None.

        A model's own fault wins over the provider-wide one. ``error_rate`` rolls its seeded
        dice; stream-only kinds leave non-streaming requests alone (and unconsumed), and
        ``reject_prefill`` likewise leaves requests without an assistant prefill alone.
        """
        with self._lock:
            for slot in ((provider, model), (provider, None)):
                fault = self._faults.get(slot)
                if fault is None or not fault.active(now):
                    continue
                if fault.kind in STREAM_ONLY and not stream:
                    return None
                if fault.kind in PREFILL_ONLY and not prefill:
                    return None
                if fault.kind == "error_rate" and fault.rng.random() >= fault.rate:
                    return None
                if fault.count is not None:
                    fault.count -= 1
                return fault
            return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"provider": p, "model": m, **f.describe()} for (p, m), f in self._faults.items()
            ]
