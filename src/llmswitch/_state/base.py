"""The state seam: small capability protocols, one ``Store`` that a backend implements whole.

Policy (``quota``, ``health``, ``router``) never knows the backend. A store keeps, per *scope*
(one provider key: ``"groq:GROQ_API_KEY"``), five concerns, each behind its own protocol so a
caller that needs one asks for just that one (``status`` reading circuits could take a
``HealthStore``; ``ledger.spent_today`` takes any ``LedgerStore``, which is its ``UsageSource``):

- ``WindowStore``: the reservation log that answers "may one more request of ~N tokens go now?"
  for every window **atomically** with recording it (reserve, then send; never
  check-then-record), and the blocks ("skip this key until T", from 429s, ``Retry-After`` and
  rate-limit headers). Blocks live with the windows because ``reserve`` refuses on an active
  block in the same atomic step as it counts.
- ``HealthStore``: circuits (cooldowns that only ever lengthen, the single half-open probe, auth
  failures). Each transition is atomic on its own record; the probe is a compare-and-set.
- ``LearnedLimitsStore``: limits learned from provider headers, kept across restarts.
- ``LedgerStore``: every attempt, with daily totals; an entry and its day's totals are written
  together so they never disagree, and once (an entry carries an id: a retried or replayed
  write is applied once). Raw entries are kept ``ledger_retention_days``; the daily roll-ups per
  provider, model and key alias for good (see ``llmswitch._ledger``).
- ``StoreLifecycle``: ``backend``, ``check``, ``reset``, ``close``.

``Store`` is the combination every backend implements together (as ``limits`` does with its
storage base and mixins), plus the composites that span capabilities and exist only to save
round trips: ``admission_view`` (health + learned limits), ``view_and_reserve`` (that view and
the reservation it allows, at once) and ``settle_and_record`` (windows + ledger). They sit on
``Store`` rather than on either capability because only a backend holding both halves can answer
them at once; the defaults here call the halves one after the other, and a backend overrides
them when it can do better:

- ``memory://``: one lock per call; ``admission_view`` under one acquisition.
- ``sqlite:///path``: one ``BEGIN IMMEDIATE`` transaction per admission; ``settle_and_record``
  in one transaction (one commit instead of two).
- ``redis://``: Lua scripts (``lua/*.lua``); ``view_and_reserve`` in one script and
  ``settle_and_record`` in one script: a successful call costs two round trips. Only Redis sets
  ``reserves_with_view``: in process the default (view, then reserve) costs nothing more.

``memory://`` is for tests and the demo; ``sqlite:///path`` is the default (survives restarts,
safe for several processes on one machine); ``redis://`` is shared by several machines.
``GuardedStore`` wraps a shared backend and decides per capability what an outage means. The
same contract suite (tests/state) runs over every backend and checks each is every capability.

The capabilities are ``typing.Protocol`` classes, ``runtime_checkable``: backends inherit them
explicitly through ``Store`` (so mypy checks their signatures and a missing method fails at
instantiation, as with an ABC), while a caller's narrow annotation, or a protocol a caller
combines from two of them, is satisfied by any store without the backends naming it.

Every method takes ``now`` (epoch seconds from the injected clock) instead of reading time, so
the same code runs on simulated time. Backends raise ``StorageError`` for their own failures and
nothing else.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from llmswitch._health import HealthRecord, key_auth_failed
from llmswitch._ledger import LedgerEntry, RollupRow, UsageRow
from llmswitch._quota import BudgetClaim, Window, WindowUsage
from llmswitch._secrets import SecretRedactor


@dataclass(frozen=True, slots=True)
class Counted:
    """What a shared store counted when it answered a reservation, for the outage guard.

    ``counts`` holds, per window in the order asked, the requests and tokens it holds now (the
    granted reservation included); ``processes`` is how many processes reserved on the scope
    within its longest window. Failing open, a process starts from these counts and takes only
    its share of what is left, so the processes together never overshoot the shared limit.
    """

    processes: int
    counts: tuple[tuple[int, int], ...]
    budget: int | None = None  # micro-dollars the provider's budget holds now, when one was asked


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to a reservation: granted (``ok``) or refused with when to come back.

    When refused, ``window`` names the window that refused (``"rpm"``, ..., ``"budget"`` for the
    provider's daily budget, or ``"blocked"`` for a block) and ``retry_at`` is the earliest epoch
    time at which the same reservation could succeed.
    ``counted``: set by a shared store (Redis), see ``Counted``; not part of the answer's value.
    ``used``: when granted, what each window asked holds right after it (in the order asked,
    this reservation included, requests or tokens by the window's unit): what is left of the
    key comes with the grant, so the gateway's rate-limit headers need no second read. A store
    that cannot say leaves it empty; not part of the answer's value either.
    """

    ok: bool
    reservation_id: str = ""
    window: str | None = None
    retry_at: float | None = None
    reason: str = ""
    counted: Counted | None = field(default=None, compare=False)
    used: tuple[int, ...] = field(default=(), compare=False)


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


@runtime_checkable
class WindowStore(Protocol):
    """Quota windows and blocks: the reservation log admission checks and records at once.

    Example:
        >>> from llmswitch._quota import make_window
        >>> from llmswitch._state.memory import MemoryStore
        >>> windows: WindowStore = MemoryStore()
        >>> windows.reserve("groq:GROQ_API_KEY", [make_window("rpm", 30)], 100, now=0.0).ok
        True
    """

    @abstractmethod
    def reserve(
        self,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        *,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> Admission:
        """Atomically: refuse if the ``budget`` cannot hold its claim, a block is active or any
        window cannot take one more request of ``tokens`` tokens; otherwise record the
        reservation in every window (and the claim in the budget's window) and grant it.

        A refusal computes ``retry_at``: for a rolling window, when enough of its oldest entries
        slide out; for a calendar window (a calendar budget too), its next reset; for a block,
        its end. A budget that refuses is named ``"budget"`` and wins over the other refusals,
        as in ``_availability.decide``'s order. A grant says what each window holds now
        (``Admission.used``).
        """

    @abstractmethod
    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        """Replace a reservation's token estimate by the real count (the request stays counted).

        A budget claim stays at its worst case: only ``settle_and_record`` knows the real cost.
        """

    @abstractmethod
    def release(self, scope: str, reservation_id: str) -> None:
        """Forget a reservation whose request never reached the provider, and its budget claim."""

    @abstractmethod
    def usage(self, scope: str, windows: Sequence[Window], *, now: float) -> list[WindowUsage]:
        """How full each window is now (in the order given)."""

    # -- blocks: the provider told us to wait; ``reserve`` reads them in its atomic step -------
    @abstractmethod
    def block(self, scope: str, *, until: float, reason: str) -> Block:
        """Skip the scope until ``until``; an existing later block is kept (never shortened)."""

    @abstractmethod
    def get_block(self, scope: str, *, now: float) -> Block | None:
        """The active block, or None when there is none or it has ended."""

    @abstractmethod
    def clear_block(self, scope: str) -> None:
        """Lift the scope's block, if any."""


@runtime_checkable
class HealthStore(Protocol):
    """Circuits: cooldowns, the single half-open probe, auth failures.

    Example:
        >>> from llmswitch._state.memory import MemoryStore
        >>> circuits: HealthStore = MemoryStore()
        >>> circuits.try_acquire_probe("provider:groq", now=0.0, ttl=35.0)
        True
    """

    @abstractmethod
    def get_health(self, scope: str) -> HealthRecord | None:
        """The scope's record, or None when nothing has happened to it yet."""

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
    ) -> HealthRecord:
        """Remember that the key with ``fingerprint`` was refused, until a success clears it."""

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


@runtime_checkable
class LearnedLimitsStore(Protocol):
    """Limits learned from provider headers (``{"rpm": 30}``), kept across restarts.

    Example:
        >>> from llmswitch._state.memory import MemoryStore
        >>> limits: LearnedLimitsStore = MemoryStore()
        >>> limits.put_learned_limits("groq:GROQ_API_KEY", {"rpm": 30})
        >>> limits.get_learned_limits("groq:GROQ_API_KEY")
        {'rpm': 30}
    """

    @abstractmethod
    def put_learned_limits(self, scope: str, limits: dict[str, int]) -> None:
        """Merge ``limits`` into what the scope has learned (a name given again is replaced)."""

    @abstractmethod
    def get_learned_limits(self, scope: str) -> dict[str, int]:
        """What the scope has learned; empty when nothing yet."""


@runtime_checkable
class LedgerStore(Protocol):
    """Every attempt and its daily totals; a ``LedgerStore`` is a ``ledger.UsageSource``.

    Example:
        >>> from llmswitch._ledger import spent_today
        >>> from llmswitch._state.memory import MemoryStore
        >>> accounts: LedgerStore = MemoryStore()
        >>> spent_today(accounts, "groq", 0.0)
        0
    """

    @abstractmethod
    def record(self, entry: LedgerEntry) -> None:
        """Append one attempt to the ledger and add it to its day's totals, once: an entry whose
        ``entry_id`` was recorded already is ignored (a retry, a replay after an outage)."""

    @abstractmethod
    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]:
        """Daily totals per provider, ordered by day then provider (days inclusive)."""

    @abstractmethod
    def rollup_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[RollupRow]:
        """Daily totals per provider, model and key alias, ordered by day, provider, model, key
        (days inclusive); kept after the raw entries are pruned."""

    @abstractmethod
    def ledger_entries(self, *, limit: int = 100) -> list[LedgerEntry]:
        """The most recent entries still kept (``ledger_retention_days``), newest first."""


@runtime_checkable
class StoreLifecycle(Protocol):
    """What every store is besides its data: a named backend that can be checked and closed."""

    backend: str

    @abstractmethod
    def check(self) -> StoreHealth:
        """Whether the backend answers now (never raises)."""

    def reset(self) -> None:
        """Forget everything (tests and ``llmswitch demo``)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the store is unusable afterwards (nothing to release: no-op)."""
        return None

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Keep these values (the configured keys) out of every text the store writes from now
        on: last error messages and block reasons are redacted by value before they are kept,
        so neither a SQLite file nor Redis (its keys, values and append-only file) ever holds
        an echoed key, whole or in part. Values add up (a store shared by two managers)."""
        raise NotImplementedError


class Store(WindowStore, HealthStore, LearnedLimitsStore, LedgerStore, StoreLifecycle):
    """Storage for quota, health, learned limits and the ledger. Thread-safe.

    The combination a backend implements together (``class RedisStore(Store)``), and what the
    router holds. The two methods below span two capabilities each; see the module docstring.

    Example:
        >>> from llmswitch._state import store_from_url
        >>> store = store_from_url("memory://")
        >>> isinstance(store, WindowStore) and isinstance(store, LedgerStore)
        True
    """

    backend: str = "abstract"
    _redactor: SecretRedactor | None = None

    def may_wait(self) -> bool:
        """Whether a call on this store may now wait on someone else (a lock another process
        holds, a network round trip). The async router runs its steps off the event loop only
        while this holds: a thread-pool hop costs more than a step that never waits. A
        networked backend may always wait and memory never does; SQLite overrides this with
        what it has lately seen of its lock."""
        return self.backend != "memory"

    def add_secrets(self, secrets: Iterable[str]) -> None:
        if self._redactor is None:
            self._redactor = SecretRedactor()
        self._redactor.add(secrets)

    def _scrub(self, text: str) -> str:
        """``text`` as the store may keep it: without any configured secret (see add_secrets)."""
        redactor = self._redactor
        return text if redactor is None else redactor(text)

    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        """``get_health`` of each scope and the key's learned limits (Redis: one round trip).

        Health and learned limits together: admission reads both before every reservation, so a
        networked backend answers them in one trip. ``model_scope`` None: no model circuit is
        read and ``model_health`` is None.
        """
        return AdmissionView(
            self.get_health(provider_scope),
            self.get_health(key_scope),
            self.get_learned_limits(key_scope),
            self.get_health(model_scope) if model_scope is not None else None,
        )

    #: ``view_and_reserve`` saves a round trip on this backend, so admission should ask it.
    reserves_with_view: bool = False

    def view_and_reserve(
        self,
        provider_scope: str,
        key_scope: str,
        model_scope: str | None,
        *,
        fingerprint: str,
        failures_to_trip: int,
        learned: Mapping[str, int],
        windows: Sequence[Window],
        tokens: int,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> tuple[AdmissionView, Admission | None]:
        """``admission_view``, and ``reserve`` on ``key_scope`` in the same atomic step when the
        view lets the call go exactly as the caller assumed (``view_allows``: every circuit
        closed, the key not refused, its learned limits the ``learned`` the ``windows`` were
        built from). Otherwise nothing is reserved (None): the caller decides on the view and
        reserves by itself, as before. So a caller's guess can cost a round trip, never a limit.

        Why: admission's reads (circuits, learned limits) and its reservation were two round
        trips on Redis; in the common case (all closed, nothing newly learned) the reads only
        confirm what the caller expected, so Redis checks that in the reserving script.
        """
        view = self.admission_view(provider_scope, key_scope, model_scope)
        if not view_allows(
            view, fingerprint=fingerprint, failures_to_trip=failures_to_trip, learned=learned
        ):
            return view, None
        return view, self.reserve(key_scope, windows, tokens, now=now, budget=budget)

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        """``settle`` then ``record`` (SQLite: one transaction; Redis: one script); a budget
        claim the reservation holds becomes the entry's real cost (``entry.cost_usd``).

        Windows and the ledger together: both are written after every call, so a backend that
        can do them at once saves a commit or a round trip. Idempotent: the settle sets a count
        (again the same one on a replay) and the entry is recorded once by its ``entry_id``.
        """
        self.settle(scope, reservation_id, tokens, now=now)
        self.record(entry)


def view_allows(
    view: AdmissionView, *, fingerprint: str, failures_to_trip: int, learned: Mapping[str, int]
) -> bool:
    """Whether ``view`` admits a call with no decision left to take: the provider's and the
    model's circuits closed (fewer than ``failures_to_trip`` consecutive failures, so neither
    cooling down nor half-open: ``_availability.decide`` finds nothing to refuse and no probe),
    the key not refused under ``fingerprint``, and its learned limits exactly ``learned``.
    ``lua/admit.lua`` is the same test in Redis."""
    trip = max(1, failures_to_trip)
    for record in (view.provider_health, view.model_health):
        if record is not None and record.consecutive_failures >= trip:
            return False
    if key_auth_failed(view.key_health, fingerprint):
        return False
    return view.learned_limits == dict(learned)
