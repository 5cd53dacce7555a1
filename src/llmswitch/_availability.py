"""Can this key take a call now? One decision, asked by admission and by everything that reports.

Admission (``_admission.py``), the status (``_status.py``), ``current_provider()``,
``get_client()`` (through ``current_provider``) and the alerts all ask ``decide``, so the status
never calls a key active that admission would skip. The checks, in the order admission meets
them:

============================  =====================  ==========================================
check                         refusal (an Outcome)   until
============================  =====================  ==========================================
the provider's circuit open   ``COOLING_DOWN``       the circuit's end
the model's circuit open      ``COOLING_DOWN``       the circuit's end
the key refused by provider   ``KEY_REFUSED``        None (until the key's value changes)
a paid provider's budget      ``BUDGET``             the budget's next day
a window or a block is full   ``NOT_ADMITTED``       when the window frees up (if known)
============================  =====================  ==========================================

A half-open circuit does not refuse: the call becomes its recovery probe (``probe``), which
admission must then win in the store. Windows are the one check admission does not take from
here: it reserves them atomically in the store, and only the reporters pass ``no_room``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmswitch import _health as health
from llmswitch._health import HealthRecord
from llmswitch._types import Outcome


@dataclass(frozen=True, slots=True)
class Budget:
    """A paid provider's daily budget as one call sees it."""

    limit_usd: float
    spent_usd: float
    resets_at: float  # the start of the budget's next day
    worst_usd: float = 0.0  # the call's worst-case cost (0: a report, not a call)

    @property
    def exhausted(self) -> bool:
        """No call fits: the budget is spent, or this call's worst case would pass it."""
        return self.spent_usd >= self.limit_usd or self.spent_usd + self.worst_usd > self.limit_usd


@dataclass(frozen=True, slots=True)
class Availability:
    """The answer: available (``refusals`` empty), or every reason it is not, in check order."""

    refusals: tuple[tuple[Outcome, str, float | None], ...] = ()  # (outcome, why, until)
    probe: Literal["provider", "model"] | None = None  # the half-open circuit this call probes

    @property
    def available(self) -> bool:
        return not self.refusals

    @property
    def refusal(self) -> Outcome | None:
        """The first reason (the one admission reports), or None."""
        return self.refusals[0][0] if self.refusals else None

    @property
    def reason(self) -> str:
        return self.refusals[0][1] if self.refusals else ""

    @property
    def until(self) -> float | None:
        return self.refusals[0][2] if self.refusals else None

    def refused_for(self, outcome: Outcome) -> bool:
        return any(o is outcome for o, _, _ in self.refusals)


def decide(
    *,
    now: float,
    model: str,
    provider_health: HealthRecord | None,
    model_health: HealthRecord | None,
    key_health: HealthRecord | None,
    fingerprint: str,
    failures_to_trip: int = 1,
    budget: Budget | None = None,
    no_room: bool = False,
    no_room_until: float | None = None,
    no_room_reason: str = "a limit is reached",
) -> Availability:
    """Whether a key of a provider can take a call to ``model`` now, and if not, why.

    Args:
        now: the clock's time.
        model: the model the call would use (its circuit is checked).
        provider_health, model_health, key_health: the stored records (None: never failed).
        fingerprint: the key's current fingerprint (an auth failure of an older value is void).
        failures_to_trip: the breaker's threshold (a circuit opens on that many failures).
        budget: the provider's daily budget, when it is paid and has one.
        no_room: a window or a block of the key leaves no room (reporters only; admission
            reserves in the store instead).
    """
    refusals: list[tuple[Outcome, str, float | None]] = []
    probe: Literal["provider", "model"] | None = None
    circuits: tuple[tuple[Literal["provider", "model"], HealthRecord | None, str], ...] = (
        ("provider", provider_health, "cooling down"),
        ("model", model_health, f"model {model} cooling down"),
    )
    for scope, record, what in circuits:
        circuit = health.assess_circuit(record, now=now, failures_to_trip=failures_to_trip)
        if circuit.state is health.CircuitState.OPEN:
            refusals.append((Outcome.COOLING_DOWN, what, circuit.until))
        elif circuit.state is health.CircuitState.HALF_OPEN and probe is None:
            probe = scope
    if health.key_auth_failed(key_health, fingerprint):
        refusals.append((Outcome.KEY_REFUSED, "key refused by the provider", None))
    if budget is not None and budget.exhausted:
        refusals.append((Outcome.BUDGET, "daily budget reached", budget.resets_at))
    if no_room:
        refusals.append((Outcome.NOT_ADMITTED, no_room_reason, no_room_until))
    return Availability(tuple(refusals), probe if not refusals else None)
