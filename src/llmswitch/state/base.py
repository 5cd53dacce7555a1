"""The state seam: one small interface, three backends chosen by URL.

Policy (``quota``, ``health``, ``router``) never knows the backend. A ``Store`` keeps, per *scope*
(one provider key: ``"groq:GROQ_API_KEY"``):

- a reservation log that answers "may one more request of ~N tokens go now?" for every window
  **atomically** with recording it (reserve, then send; never check-then-record);
- blocks ("skip this key until T", set from 429s, ``Retry-After`` and rate-limit headers);
- health records (cooldowns that only ever lengthen, the single half-open probe, auth failures);
- limits learned from provider headers, kept across restarts;
- the ledger of every attempt, with daily totals.

Backends: ``memory://`` (one lock), ``sqlite:///path`` (one ``BEGIN IMMEDIATE`` transaction; the
default, survives restarts, safe for several processes on one machine), ``redis://`` (Lua
scripts; several machines). The same contract suite (tests/state) runs over all of them.

Every method takes ``now`` (epoch seconds from the injected clock) instead of reading time, so
the same code runs on simulated time. Backends raise ``StorageError`` for their own failures and
nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmswitch.health import HealthRecord
from llmswitch.ledger import LedgerEntry, UsageRow
from llmswitch.quota import Window, WindowUsage


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to a reservation: granted (``ok``) or refused with when to come back.

    When refused, ``window`` names the window that refused (``"rpm"``, ..., or ``"blocked"`` for a
    block) and ``retry_at`` is the earliest epoch time at which the same reservation could succeed.
    """

    ok: bool
    reservation_id: str = ""
    window: str | None = None
    retry_at: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Block:
    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class AdmissionView:
    """What admission reads before it reserves: the circuits and the key's learned limits.

    ``model_health`` is the circuit of the model on that provider, when the caller asked for it
    (a model's 5xx cools that model only, so its neighbours on the same provider stay usable).
    """

    provider_health: HealthRecord | None
    key_health: HealthRecord | None
    learned_limits: dict[str, int]
    model_health: HealthRecord | None = None


@dataclass(frozen=True, slots=True)
class StoreHealth:
    backend: str
    ok: bool
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Store(ABC):
    """Storage for quota, health, learned limits and the ledger. Thread-safe."""

    backend: str = "abstract"

    # -- admission ------------------------------------------------------------------------
    @abstractmethod
    def reserve(
        self, scope: str, windows: Sequence[Window], tokens: int, *, now: float
    ) -> Admission:
        """Atomically: refuse if a block is active or any window cannot take one more request of
        ``tokens`` tokens; otherwise record the reservation in every window and grant it.

        A refusal computes ``retry_at``: for a rolling window, when enough of its oldest entries
        slide out; for a calendar window, its next reset; for a block, its end.
        """

    @abstractmethod
    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        """Replace a reservation's token estimate by the real count (the request stays counted)."""

    @abstractmethod
    def release(self, scope: str, reservation_id: str) -> None:
        """Forget a reservation whose request never reached the provider."""

    @abstractmethod
    def usage(self, scope: str, windows: Sequence[Window], *, now: float) -> list[WindowUsage]:
        """How full each window is now (in the order given)."""

    # -- round trips saved: composites a networked backend answers at once ------------------
    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        """``get_health`` of each scope and the key's learned limits (Redis: one round trip).

        ``model_scope`` None: no model circuit is read and ``model_health`` is None.
        """
        return AdmissionView(
            self.get_health(provider_scope),
            self.get_health(key_scope),
            self.get_learned_limits(key_scope),
            self.get_health(model_scope) if model_scope is not None else None,
        )

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        """``settle`` then ``record`` (Redis: one round trip)."""
        self.settle(scope, reservation_id, tokens, now=now)
        self.record(entry)

    # -- blocks: the provider told us to wait -----------------------------------------------
    @abstractmethod
    def block(self, scope: str, *, until: float, reason: str) -> Block:
        """Skip the scope until ``until``; an existing later block is kept (never shortened)."""

    @abstractmethod
    def get_block(self, scope: str, *, now: float) -> Block | None:
        """The active block, or None when there is none or it has ended."""

    @abstractmethod
    def clear_block(self, scope: str) -> None: ...

    # -- health -----------------------------------------------------------------------------
    @abstractmethod
    def get_health(self, scope: str) -> HealthRecord | None: ...

    @abstractmethod
    def trip(
        self, scope: str, *, until: float, kind: str, message: str, now: float
    ) -> HealthRecord:
        """Record a failure and open the circuit until ``max(current open_until, until)``."""

    @abstractmethod
    def note_error(self, scope: str, *, kind: str, message: str, now: float) -> HealthRecord:
        """Record the last error without opening the circuit (e.g. a rate limit)."""

    @abstractmethod
    def mark_auth_failed(
        self, scope: str, *, fingerprint: str, message: str, now: float
    ) -> HealthRecord: ...

    @abstractmethod
    def record_success(self, scope: str) -> None:
        """Close the circuit: zero failures, no cooldown, no probe (auth state cleared too)."""

    @abstractmethod
    def try_acquire_probe(self, scope: str, *, now: float, ttl: float) -> bool:
        """Take the single half-open probe slot for ``ttl`` seconds; False if another holds it."""

    @abstractmethod
    def release_probe(self, scope: str) -> None:
        """Give the probe slot back now, whoever holds it.

        The ``ttl`` only guards against a holder that dies mid-probe. A probe that failed has
        already re-opened the circuit (``trip``), so holding the slot until the ttl would only
        make the next half-open period wait ``timeout + 5 s`` for nothing.
        """

    @abstractmethod
    def clear_health(self, scope: str) -> None:
        """Close the circuit by hand (``llmswitch reset``): no cooldown, no failures, no probe,
        no auth failure, no ``opened_at``/``opened_by``. ``last_error_*`` stay, so status still
        shows what the last failure was. A scope without a record stays without one.
        """

    # -- learned limits -----------------------------------------------------------------------
    @abstractmethod
    def put_learned_limits(self, scope: str, limits: dict[str, int]) -> None: ...

    @abstractmethod
    def get_learned_limits(self, scope: str) -> dict[str, int]: ...

    # -- ledger -------------------------------------------------------------------------------
    @abstractmethod
    def record(self, entry: LedgerEntry) -> None:
        """Append one attempt to the ledger and add it to its day's totals."""

    @abstractmethod
    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]:
        """Daily totals per provider, ordered by day then provider (days inclusive)."""

    @abstractmethod
    def ledger_entries(self, *, limit: int = 100) -> list[LedgerEntry]:
        """The most recent entries, newest first."""

    # -- lifecycle ----------------------------------------------------------------------------
    @abstractmethod
    def check(self) -> StoreHealth:
        """Whether the backend answers now (never raises)."""

    def reset(self) -> None:
        """Forget everything (tests and ``llmswitch demo``)."""
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the store is unusable afterwards."""
