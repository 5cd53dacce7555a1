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
  keep flowing under each process's own count of the configured limits. It is logged as an error
  when it starts, because the shared limits no longer hold.

Either way writes after a call never fail it: a settle or a cooldown that cannot reach the store is
kept locally; ledger entries wait in a bounded buffer and are written when the store is back
("nothing is lost"; past ``pending_limit`` the oldest are dropped with a count in the log). While
down, the real store is tried again at most once per ``retry_interval`` seconds (one caller at a
time), so a dead Redis costs one connection attempt per interval, not one per call. Recovery is
automatic and announced: ``on_change`` receives a ``StoreHealthChanged`` event both ways.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

from llmswitch.clock import Clock
from llmswitch.errors import StorageError
from llmswitch.events import StoreHealthChanged
from llmswitch.health import HealthRecord
from llmswitch.ledger import LedgerEntry, UsageRow
from llmswitch.quota import Window, WindowUsage
from llmswitch.state.base import Admission, AdmissionView, Block, Store, StoreHealth
from llmswitch.state.memory import MemoryStore

log = logging.getLogger("llmswitch")

T = TypeVar("T")

RETRY_INTERVAL = 1.0
PENDING_LIMIT = 10_000


class GuardedStore(Store):
    """A store that survives its backend going away, failing closed unless told otherwise.

    Args:
        primary: the real store (Redis or SQLite).
        fail_open: while ``primary`` is down, admit on per-process limits instead of refusing.
        clock: decides when to try ``primary`` again.
        on_change: receives ``StoreHealthChanged`` when ``primary`` goes down or comes back.
        retry_interval: seconds between attempts to reach a down ``primary``.
        pending_limit: ledger entries kept for ``primary`` while it is down.
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
        self.fail_open = fail_open
        self.clock = clock
        self.on_change = on_change
        self.retry_interval = retry_interval
        self.local = MemoryStore()
        self._lock = threading.Lock()
        self._down_detail: str | None = None
        self._next_try = 0.0
        self._local_reservations: set[str] = set()
        self._pending: deque[LedgerEntry] = deque(maxlen=pending_limit)
        self._dropped = 0

    # -- the guard ---------------------------------------------------------------------------
    @property
    def degraded(self) -> bool:
        return self._down_detail is not None

    @property
    def pending_entries(self) -> int:
        """Ledger entries waiting for the store to come back."""
        return len(self._pending)

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

    def _admission_read(self, op: Callable[[], T], local: Callable[[], T]) -> T:
        """Reads admission depends on: local when failing open, an error when failing closed."""
        return self._guard(op, local if self.fail_open else None)

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
                "(shared limits no longer hold: every process counts alone)",
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

    def _write(self, op: Callable[[], object], local: Callable[[], object]) -> None:
        """A write after a call: kept locally when the store is down, never an error."""
        self._guard(op, local)

    # -- admission ---------------------------------------------------------------------------
    def reserve(
        self, scope: str, windows: Sequence[Window], tokens: int, *, now: float
    ) -> Admission:
        def local() -> Admission:
            adm = self.local.reserve(scope, windows, tokens, now=now)
            if adm.ok:
                self._local_reservations.add(adm.reservation_id)
            return adm

        return self._admission_read(
            lambda: self.primary.reserve(scope, windows, tokens, now=now), local
        )

    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        if reservation_id in self._local_reservations:
            self._local_reservations.discard(reservation_id)
            self.local.settle(scope, reservation_id, tokens, now=now)
            return
        # Unreachable: the reservation stays counted at its estimate, an overcount.
        self._write(lambda: self.primary.settle(scope, reservation_id, tokens, now=now), _noop)

    def release(self, scope: str, reservation_id: str) -> None:
        if reservation_id in self._local_reservations:
            self._local_reservations.discard(reservation_id)
            self.local.release(scope, reservation_id)
            return
        self._write(lambda: self.primary.release(scope, reservation_id), _noop)

    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        return self._admission_read(
            lambda: self.primary.admission_view(provider_scope, key_scope, model_scope),
            lambda: self.local.admission_view(provider_scope, key_scope, model_scope),
        )

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        if reservation_id in self._local_reservations:
            self.settle(scope, reservation_id, tokens, now=now)
            self.record(entry)
            return
        self._write(
            lambda: self.primary.settle_and_record(scope, reservation_id, tokens, entry, now=now),
            lambda: self._keep(entry),
        )

    def usage(self, scope: str, windows: Sequence[Window], *, now: float) -> list[WindowUsage]:
        return self._admission_read(
            lambda: self.primary.usage(scope, windows, now=now),
            lambda: self.local.usage(scope, windows, now=now),
        )

    # -- blocks and health -------------------------------------------------------------------
    def block(self, scope: str, *, until: float, reason: str) -> Block:
        return self._guard(
            lambda: self.primary.block(scope, until=until, reason=reason),
            lambda: self.local.block(scope, until=until, reason=reason),
        )

    def get_block(self, scope: str, *, now: float) -> Block | None:
        return self._admission_read(
            lambda: self.primary.get_block(scope, now=now),
            lambda: self.local.get_block(scope, now=now),
        )

    def clear_block(self, scope: str) -> None:
        self.local.clear_block(scope)
        self._write(lambda: self.primary.clear_block(scope), _noop)

    def get_health(self, scope: str) -> HealthRecord | None:
        return self._admission_read(
            lambda: self.primary.get_health(scope), lambda: self.local.get_health(scope)
        )

    def trip(
        self, scope: str, *, until: float, kind: str, message: str, now: float
    ) -> HealthRecord:
        return self._guard(
            lambda: self.primary.trip(scope, until=until, kind=kind, message=message, now=now),
            lambda: self.local.trip(scope, until=until, kind=kind, message=message, now=now),
        )

    def note_error(self, scope: str, *, kind: str, message: str, now: float) -> HealthRecord:
        return self._guard(
            lambda: self.primary.note_error(scope, kind=kind, message=message, now=now),
            lambda: self.local.note_error(scope, kind=kind, message=message, now=now),
        )

    def mark_auth_failed(
        self, scope: str, *, fingerprint: str, message: str, now: float
    ) -> HealthRecord:
        return self._guard(
            lambda: self.primary.mark_auth_failed(
                scope, fingerprint=fingerprint, message=message, now=now
            ),
            lambda: self.local.mark_auth_failed(
                scope, fingerprint=fingerprint, message=message, now=now
            ),
        )

    def record_success(self, scope: str) -> None:
        self.local.record_success(scope)
        self._write(lambda: self.primary.record_success(scope), _noop)

    def try_acquire_probe(self, scope: str, *, now: float, ttl: float) -> bool:
        return self._admission_read(
            lambda: self.primary.try_acquire_probe(scope, now=now, ttl=ttl),
            lambda: self.local.try_acquire_probe(scope, now=now, ttl=ttl),
        )

    def release_probe(self, scope: str) -> None:
        """A write after a call: the local slot is freed too, as a fail-open probe took it."""
        self.local.release_probe(scope)
        self._write(lambda: self.primary.release_probe(scope), _noop)

    def clear_health(self, scope: str) -> None:
        """Cleared locally as well, so a reset also closes what the store outage tripped here.

        Unlike the writes after a call, a reset that cannot reach the store raises: the person
        who ran ``llmswitch reset`` must not be told a shared circuit is closed when it is not.
        """
        self.local.clear_health(scope)
        self._guard(lambda: self.primary.clear_health(scope), None)

    # -- learned limits ----------------------------------------------------------------------
    def put_learned_limits(self, scope: str, limits: dict[str, int]) -> None:
        self._write(
            lambda: self.primary.put_learned_limits(scope, limits),
            lambda: self.local.put_learned_limits(scope, limits),
        )

    def get_learned_limits(self, scope: str) -> dict[str, int]:
        return self._admission_read(
            lambda: self.primary.get_learned_limits(scope),
            lambda: self.local.get_learned_limits(scope),
        )

    # -- ledger ------------------------------------------------------------------------------
    def record(self, entry: LedgerEntry) -> None:
        self._write(lambda: self.primary.record(entry), lambda: self._keep(entry))

    def _keep(self, entry: LedgerEntry) -> None:
        """Hold a ledger entry for the real store (and count it locally meanwhile)."""
        with self._lock:
            if len(self._pending) == self._pending.maxlen:
                self._dropped += 1
            self._pending.append(entry)
        self.local.record(entry)

    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]:
        return self._admission_read(
            lambda: self.primary.usage_rows(since_day=since_day, until_day=until_day),
            lambda: self.local.usage_rows(since_day=since_day, until_day=until_day),
        )

    def ledger_entries(self, *, limit: int = 100) -> list[LedgerEntry]:
        return self._admission_read(
            lambda: self.primary.ledger_entries(limit=limit),
            lambda: self.local.ledger_entries(limit=limit),
        )

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

    def __repr__(self) -> str:
        mode = "fail open" if self.fail_open else "fail closed"
        return f"<GuardedStore {self.backend} {mode}{' DEGRADED' if self.degraded else ''}>"


def guard(
    store: Store,
    *,
    fail_open: bool,
    clock: Clock,
    on_change: Callable[[StoreHealthChanged], None] | None = None,
) -> Store:
    """Wrap ``store`` unless it cannot fail (memory) or is wrapped already."""
    if isinstance(store, GuardedStore | MemoryStore):
        return store
    return GuardedStore(store, fail_open=fail_open, clock=clock, on_change=on_change)


def _noop() -> None:
    return None
