"""What the router does while its state store cannot be reached.

A shared store (Redis, or SQLite on a full disk) can fail in the middle of a run. The peers'
most reported failure is what happens next: a Redis error that silently falls back to
per-process limits, multiplying every provider's limit by the number of processes. So
``GuardedStore`` wraps the real store and makes the choice explicit:

- **fail closed** (the default): anything admission needs to read (windows, cooldowns, the probe,
  learned limits, the budget) raises ``StorageError``, so the router skips providers whose limits
  it cannot check and, when nothing can be admitted, fails the call with a message naming the
  store. Nothing is sent that could overshoot a shared limit.
- **fail open** (``fail_open = true``): the same reads go to a per-process ``MemoryStore``, so calls
  keep flowing. Its count starts from what the shared store counted at the last reservation of
  each scope, and this process admits only its share of what was left (``_fallback``): one
  process alone never overshoots, several together neither. A scope this process never reserved
  on before the outage has no reading and is admitted on the process's own count. It is logged as
  an error when it starts, because the shared store no longer arbitrates.

Either way writes after a call never fail it: a settle or a cooldown that cannot reach the store is
kept locally; ledger entries wait in a bounded buffer and are written when the store is back
("nothing is lost"; past ``pending_limit`` the oldest are dropped with a count in the log). A
write that timed out may still have reached the store (a stalled Redis runs it when it wakes);
writing it again is safe because every entry carries an id the store applies once. While
down, the real store is tried again at most once per ``retry_interval`` seconds (one caller at a
time), so a dead Redis costs one connection attempt per interval, not one per call. Recovery is
automatic and announced: ``on_change`` receives a ``StoreHealthChanged`` event both ways.

Each ``Store`` method meets an outage in one of four ways, the policies ``_read`` (admission
reads), ``_mirror`` (writes admission reads back), ``_everywhere`` (writes that lift something,
done locally too) and ``_everywhere_or_raise`` (a reset by hand). The class body is a table that
gives each method, grouped by capability, its policy; only the reservations and the ledger are
written out, because they remember where a reservation was granted and which entries still wait.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from operator import methodcaller
from typing import Concatenate, ParamSpec, TypeVar

from llmswitch._clock import Clock
from llmswitch._errors import StorageError
from llmswitch._events import StoreHealthChanged
from llmswitch._ledger import LedgerEntry
from llmswitch._quota import BudgetClaim, Window
from llmswitch._state import _common, _fallback
from llmswitch._state.base import Admission, AdmissionView, Counted, Store, StoreHealth
from llmswitch._state.memory import MemoryStore

log = logging.getLogger("llmswitch")

P = ParamSpec("P")
T = TypeVar("T")

RETRY_INTERVAL = 1.0
PENDING_LIMIT = 10_000


def _guarded(
    policy: Callable[[GuardedStore, Callable[[Store], T]], T],
    method: Callable[Concatenate[Store, P], T],
) -> Callable[Concatenate[GuardedStore, P], T]:
    """``GuardedStore``'s ``method``: the same call on the real store, run under ``policy``.

    Typed by ``method`` itself, so mypy checks the result against the ``Store`` signature it
    replaces; the call is looked up by the method's name on whichever store ``policy`` picks.
    """
    name = method.__name__

    # Name and docstring only: ``updated=()`` keeps ``__isabstractmethod__`` off the copy.
    @functools.wraps(method, assigned=("__name__", "__doc__"), updated=())
    def guarded(self: GuardedStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return policy(self, methodcaller(name, *args, **kwargs))

    guarded.__qualname__ = f"GuardedStore.{name}"
    return guarded


class GuardedStore(Store):
    """A store that survives its backend going away, failing closed unless told otherwise.

    Args:
        primary: the real store (Redis or SQLite).
        fail_open: while ``primary`` is down, admit on per-process limits instead of refusing.
        clock: decides when to try ``primary`` again.
        on_change: receives ``StoreHealthChanged`` when ``primary`` goes down or comes back.
        retry_interval: seconds between attempts to reach a down ``primary``.
        pending_limit: ledger entries kept for ``primary`` while it is down.

    Example:
        >>> from llmswitch._clock import FakeClock
        >>> store = GuardedStore(MemoryStore(), clock=FakeClock(0.0))  # any store as primary
        >>> store.try_acquire_probe("provider:groq", now=0.0, ttl=35.0), store.degraded
        (True, False)
    """

    def __init__(
        self,
        primary: Store,
        *,
        fail_open: bool = False,
        clock: Clock,
        on_change: Callable[[StoreHealthChanged], None] | None = None,
        retry_interval: float = RETRY_INTERVAL,
        pending_limit: int = PENDING_LIMIT,
    ) -> None:
        self.primary = primary
        self.backend = primary.backend
        self.reserves_with_view = primary.reserves_with_view
        self.fail_open = fail_open
        self.clock = clock
        self.on_change = on_change
        self.retry_interval = retry_interval
        self.local = MemoryStore()
        self._lock = threading.Lock()
        self._down_detail: str | None = None
        self._next_try = 0.0
        self._local_reservations: set[str] = set()
        self._readings: dict[str, _fallback.Reading] = {}  # scope -> the last shared count
        self._periods = _common.CalendarPeriods()
        self._pending: deque[LedgerEntry] = deque(maxlen=pending_limit)
        self._dropped = 0

    # -- the guard ---------------------------------------------------------------------------
    @property
    def degraded(self) -> bool:
        return self._down_detail is not None

    def may_wait(self) -> bool:
        """The primary's answer: a call goes to it first."""
        return self.primary.may_wait()

    def _skip_primary(self) -> bool:
        """While down, only one caller per ``retry_interval`` tries the real store again."""
        if self._down_detail is None:
            return False
        now = self.clock()
        with self._lock:
            if now < self._next_try:
                return True
            self._next_try = now + self.retry_interval
        return False

    def _guard(self, op: Callable[[], T], fallback: Callable[[], T] | None) -> T:
        """Run ``op`` on the real store; on failure use ``fallback`` (or raise when None)."""
        if not self._skip_primary():
            try:
                result = op()
            except StorageError as exc:
                self._went_down(exc)
            else:
                if self._down_detail is not None:
                    self._came_back()
                return result
        if fallback is None:
            retry_after = max(0.0, self._next_try - self.clock())
            raise StorageError(
                self._unavailable_message(), backend=self.backend, retry_after=retry_after
            )
        return fallback()

    def _unavailable_message(self) -> str:
        return (
            f"the {self.backend} state store is unreachable ({self._down_detail}); failing "
            f"closed, so no provider whose shared limits cannot be checked is called{self._hint()}"
        )

    def _hint(self) -> str:
        if self.backend != "redis":
            return ""
        return " (set fail_open = true in [llmswitch] to admit on per-process limits meanwhile)"

    def _went_down(self, exc: StorageError) -> None:
        with self._lock:
            first = self._down_detail is None
            self._down_detail = str(exc)
            self._next_try = self.clock() + self.retry_interval
        if not first:
            return
        if self.fail_open:
            log.error(
                "llmswitch: FAILING OPEN: %s; admitting on per-process limits until it returns "
                "(each process takes its share of what the store had left at its last reading)",
                exc,
            )
        else:
            log.error(
                "llmswitch: %s; failing closed: providers whose limits cannot be checked are "
                "skipped until it returns%s",
                exc,
                self._hint(),
            )
        self._announce(ok=False, detail=str(exc))

    def _came_back(self) -> None:
        with self._lock:
            if self._down_detail is None:
                return
            self._down_detail = None
            pending = list(self._pending)
            self._pending.clear()
            dropped, self._dropped = self._dropped, 0
        written = 0
        for i, entry in enumerate(pending):
            try:
                self.primary.record(entry)
            except StorageError as exc:
                with self._lock:
                    self._pending.extendleft(reversed(pending[i:]))
                self._went_down(exc)
                return
            written += 1
        log.warning(
            "llmswitch: the %s state store is back; shared limits hold again "
            "(%d ledger entries written late, %d dropped while it was down)",
            self.backend,
            written,
            dropped,
        )
        self._announce(ok=True, detail="")

    def _announce(self, *, ok: bool, detail: str) -> None:
        if self.on_change is None:
            return
        event = StoreHealthChanged(self.clock(), self.backend, ok, detail, self.fail_open)
        try:
            self.on_change(event)
        except Exception:  # an observer must never break a call
            log.exception("llmswitch: state health observer failed")

    # -- the policies: what an outage means for each call (the table below picks one) --------
    def _read(self, op: Callable[[Store], T]) -> T:
        """A read admission depends on: local when failing open, ``StorageError`` when closed."""
        return self._guard(lambda: op(self.primary), self._local(op) if self.fail_open else None)

    def _mirror(self, op: Callable[[Store], T]) -> T:
        """A write admission reads back (a block, a cooldown, a learned limit): kept locally
        while the store is down, so fail-open admission honours it; never an error."""
        return self._guard(lambda: op(self.primary), self._local(op))

    def _everywhere(self, op: Callable[[Store], None]) -> None:
        """A write after a call that lifts something (a block, a cooldown, the probe slot): done
        locally too, as the outage may have set it there; dropped when unreachable."""
        op(self.local)
        self._guard(lambda: op(self.primary), _noop)

    def _everywhere_or_raise(self, op: Callable[[Store], None]) -> None:
        """A reset by hand: done locally too, but ``StorageError`` when the store cannot hear
        it; whoever ran ``llmswitch reset`` must not be told a shared circuit is closed."""
        op(self.local)
        self._guard(lambda: op(self.primary), None)

    def _local(self, op: Callable[[Store], T]) -> Callable[[], T]:
        return lambda: op(self.local)

    def _write(self, op: Callable[[], object], local: Callable[[], object]) -> None:
        """A write after a call: ``local`` when the store is down, never an error."""
        self._guard(op, local)

    # -- reservations and the ledger: they remember where a reservation or an entry went -----
    def reserve(
        self,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        *,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> Admission:
        def shared() -> Admission:
            adm = self.primary.reserve(scope, windows, tokens, now=now, budget=budget)
            return self._noted(adm, scope, windows, now, budget)

        def local() -> Admission:
            mine = _fallback.share(windows, self._readings.get(scope), now, self._periods)
            if isinstance(mine, Admission):
                return mine
            claim = budget
            if budget is not None:  # the budget too: this process's share of what was left
                cut = _fallback.share(
                    (budget.window,), self._readings.get(budget.scope), now, self._periods
                )
                if isinstance(cut, Admission):
                    return _common.refusal(budget.window, cut.retry_at, tokens=budget.micros)
                claim = replace(budget, window=cut[0])
            adm = self.local.reserve(scope, mine, tokens, now=now, budget=claim)
            if adm.ok:
                self._local_reservations.add(adm.reservation_id)
            return adm

        return self._guard(shared, local if self.fail_open else None)

    def _noted(
        self,
        adm: Admission,
        scope: str,
        windows: Sequence[Window],
        now: float,
        budget: BudgetClaim | None,
    ) -> Admission:
        """Keep what the shared store counted (the fallback starts from it) or mirror its block."""
        if adm.counted is not None:
            self._readings[scope] = _fallback.Reading(now, tuple(windows), adm.counted)
            if budget is not None and adm.counted.budget is not None:
                self._readings[budget.scope] = _fallback.Reading(
                    now,
                    (budget.window,),
                    Counted(adm.counted.processes, ((0, adm.counted.budget),)),
                )
        elif adm.window == "blocked" and adm.retry_at is not None:
            self.local.block(scope, until=adm.retry_at, reason=adm.reason)
        return adm

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
        """The real store's answer, noted as ``reserve``'s; when it is down, the view as
        ``admission_view`` meets an outage (local when failing open, else ``StorageError``) and
        nothing reserved, so admission then reserves through ``reserve`` and its fallback."""

        def shared() -> tuple[AdmissionView, Admission | None]:
            view, adm = self.primary.view_and_reserve(
                provider_scope,
                key_scope,
                model_scope,
                fingerprint=fingerprint,
                failures_to_trip=failures_to_trip,
                learned=learned,
                windows=windows,
                tokens=tokens,
                now=now,
                budget=budget,
            )
            if adm is not None:
                self._noted(adm, key_scope, windows, now, budget)
            return view, adm

        def local() -> tuple[AdmissionView, Admission | None]:
            return self.local.admission_view(provider_scope, key_scope, model_scope), None

        return self._guard(shared, local if self.fail_open else None)

    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        # Unreachable: the reservation stays counted at its estimate, an overcount.
        self._where_reserved(
            reservation_id, lambda s: s.settle(scope, reservation_id, tokens, now=now)
        )

    def release(self, scope: str, reservation_id: str) -> None:
        self._where_reserved(reservation_id, lambda s: s.release(scope, reservation_id))

    def _where_reserved(self, reservation_id: str, op: Callable[[Store], None]) -> None:
        """Settle or release in the store that granted the reservation (a write after a call)."""
        if reservation_id in self._local_reservations:
            self._local_reservations.discard(reservation_id)
            op(self.local)
        else:
            self._write(lambda: op(self.primary), _noop)

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        if reservation_id in self._local_reservations:  # its budget claim is local too
            self._local_reservations.discard(reservation_id)
            self.local.settle_and_record(scope, reservation_id, tokens, entry, now=now)
            self._write(lambda: self.primary.record(entry), lambda: self._keep(entry))
            return
        self._write(
            lambda: self.primary.settle_and_record(scope, reservation_id, tokens, entry, now=now),
            lambda: self._keep(entry),
        )

    def record(self, entry: LedgerEntry) -> None:
        self._write(lambda: self.primary.record(entry), lambda: self._keep(entry))

    def _keep(self, entry: LedgerEntry) -> None:
        """Hold a ledger entry for the real store (and count it locally meanwhile)."""
        with self._lock:
            if len(self._pending) == self._pending.maxlen:
                self._dropped += 1
            self._pending.append(entry)
        self.local.record(entry)

    # -- everything else, by capability: one policy each (mypy checks each signature) --------
    usage = _guarded(_read, Store.usage)
    block = _guarded(_mirror, Store.block)
    get_block = _guarded(_read, Store.get_block)
    clear_block = _guarded(_everywhere, Store.clear_block)

    get_health = _guarded(_read, Store.get_health)
    trip = _guarded(_mirror, Store.trip)
    note_error = _guarded(_mirror, Store.note_error)
    mark_auth_failed = _guarded(_mirror, Store.mark_auth_failed)
    record_success = _guarded(_everywhere, Store.record_success)
    try_acquire_probe = _guarded(_read, Store.try_acquire_probe)
    release_probe = _guarded(_everywhere, Store.release_probe)  # a fail-open probe took it here
    clear_health = _guarded(_everywhere_or_raise, Store.clear_health)  # closes the local trips too

    put_learned_limits = _guarded(_mirror, Store.put_learned_limits)
    get_learned_limits = _guarded(_read, Store.get_learned_limits)

    usage_rows = _guarded(_read, Store.usage_rows)
    rollup_rows = _guarded(_read, Store.rollup_rows)
    ledger_entries = _guarded(_read, Store.ledger_entries)

    admission_view = _guarded(_read, Store.admission_view)

    # -- lifecycle ---------------------------------------------------------------------------
    def check(self) -> StoreHealth:
        """The real store's answer; a healthy answer while degraded ends the outage."""
        health = self.primary.check()
        if health.ok and self._down_detail is not None:
            self._came_back()
        elif not health.ok and self._down_detail is None:
            self._went_down(StorageError(health.detail, backend=self.backend))
        extra = {**health.extra, "fail_open": str(self.fail_open).lower()}
        if self._pending:
            extra["pending_ledger_entries"] = str(len(self._pending))
        return StoreHealth(health.backend, health.ok, health.detail, extra)

    def reset(self) -> None:
        self.local.reset()
        self._pending.clear()
        self.primary.reset()

    def close(self) -> None:
        self.primary.close()

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Both stores a text can land in (the real one and the outage's local one) hide them."""
        values = tuple(secrets)
        self.primary.add_secrets(values)
        self.local.add_secrets(values)

    def __repr__(self) -> str:
        mode = "fail open" if self.fail_open else "fail closed"
        return f"<GuardedStore {self.backend} {mode}{' DEGRADED' if self.degraded else ''}>"


def guard(
    store: Store,
    *,
    fail_open: bool,
    clock: Clock,
    on_change: Callable[[StoreHealthChanged], None] | None = None,
    secrets: Iterable[str] = (),
) -> Store:
    """Wrap ``store`` unless it cannot fail (memory) or is wrapped already; either way it hides
    ``secrets`` (the configured key values) in every text it keeps from now on."""
    guarded = (
        store
        if isinstance(store, GuardedStore | MemoryStore)
        else GuardedStore(store, fail_open=fail_open, clock=clock, on_change=on_change)
    )
    guarded.add_secrets(secrets)
    return guarded


def _noop() -> None:
    return None
