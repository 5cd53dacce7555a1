"""``sqlite:///path``: the default store; survives restarts, shared by processes on one machine.

Admission is one ``BEGIN IMMEDIATE`` transaction: it takes SQLite's write lock before reading, so
no other thread or process can reserve between our check and our insert. WAL lets readers
(status, the dashboard) run beside the writer; ``synchronous=NORMAL`` skips the fsync per commit
(WAL stays consistent; a power cut may lose the last reservations, which only frees quota we
would have counted). ``busy_timeout`` makes other processes wait for the lock instead of failing.

A call's settlement and ledger entry are written behind (``_sqlite_behind``), so a call costs
one write transaction instead of two: the settlement in this process's next transaction (usually
the next call's reservation), the ledger entries with it in batches (``LEDGER_BATCH``, or once
the oldest has waited ``FLUSH_AFTER`` seconds). A writer thread writes what is left once the
store is idle, and any read of this store, ``close`` and the interpreter's exit write it first.
This process therefore always sees them. Another process sees a settlement one transaction of
ours (or ``FLUSH_AFTER``) late, meanwhile counting the call at its reservation as while it was in
flight, and the ledger entries at most ``FLUSH_AFTER`` late. A ``kill -9`` loses what was not
written yet (at most ``FLUSH_AFTER`` seconds or ``LEDGER_BATCH`` entries); the reservations stay
counted at their estimate.

What admission reads on every call besides the windows (circuits, learned limits, blocks) is
kept between its transactions while no other connection commits (``_sqlite_reads``).

The ledger's raw rows are deleted past ``ledger_retention_days`` (at most once an hour of entry
time); triggers keep the daily totals and roll-ups, which stay. The file and the folders made for
it are created private (0600/0700).

One connection per process, behind a lock: threads of one process take turns in Python instead
of spinning in SQLite's busy handler, and a forked child opens its own connection. Every
``sqlite3.Error`` becomes ``StorageError(backend="sqlite")`` in ``_errors``.

Example:
    >>> store = SqliteStore(".llmswitch/_state.db")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from llmswitch import _health as health
from llmswitch._errors import StorageError
from llmswitch._health import HealthRecord
from llmswitch._ledger import DEFAULT_RETENTION_DAYS, LedgerEntry, RollupRow, UsageRow
from llmswitch._quota import BudgetClaim, Window, WindowUsage
from llmswitch._state import _common
from llmswitch._state import _sqlite_schema as schema
from llmswitch._state import _sqlite_windows as wins
from llmswitch._state._sqlite_behind import Behind, WriterThread
from llmswitch._state._sqlite_lock import TurnLock
from llmswitch._state._sqlite_reads import AdmissionReads
from llmswitch._state.base import Admission, AdmissionView, Block, Store, StoreHealth, view_allows

log = logging.getLogger("llmswitch")

PRUNE_EVERY = 300.0  # seconds between prunes of one scope's old reservations (per process)
PRUNE_LEDGER_EVERY = 3600.0  # seconds (of entry time) between prunes of raw ledger rows


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """The one place where ``sqlite3`` exceptions (and the file system's) become ours."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"SQLite state store failed to {what}: {exc}", backend="sqlite") from exc


class SqliteStore(Store):
    """State in one SQLite file; safe for threads and for processes sharing the file."""

    backend = "sqlite"
    reserves_with_view = True  # the view and the reservation in one transaction

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 10.0,
        ledger_retention_days: float = DEFAULT_RETENTION_DAYS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._turn = TurnLock(self.path, timer)
        #: this process's lock (threads of one process take turns here, not in SQLite)
        self._locked: Callable[[], AbstractContextManager[None]] = self._turn.held
        self._busy_ms = int(busy_timeout * 1000)
        self.ledger_retention = ledger_retention_days * 86_400.0
        self._ledger_pruned = float("-inf")
        self._periods = _common.CalendarPeriods()
        self._pruned: dict[str, float] = {}
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self.behind = Behind()  # settlements and ledger entries written behind (see module)
        self._reads = AdmissionReads()  # admission's reads, kept while nobody else writes
        self._writer = WriterThread(f"llmswitch-sqlite-writer {self.path.name}")
        self._last_tx = float("-inf")  # time.monotonic() of this process's last transaction
        self._closed = False
        with self._locked():
            self._conn()

    # -- connection and transactions ------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        """This process's connection (opened on first use, again after a fork)."""
        if self._db is None or self._pid != os.getpid():
            with _errors("open the database"):
                schema.create_private(self.path)
                db = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=0
                )
                db.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
                schema.create(db, busy_seconds=self._busy_ms / 1000)
            self._db, self._pid = db, os.getpid()
            self._reads = AdmissionReads()  # what another connection read is not ours
        return self._db

    def may_wait(self) -> bool:
        """See ``TurnLock.may_wait``: another process holding the file, or one of our threads
        inside the store for more than ``HELD_LONG``."""
        return self._turn.may_wait()

    @contextmanager
    def _tx(
        self, what: str, *, everything: bool = False, admission: bool = False
    ) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken before reading so checks stay true. What
        waits behind goes first, in the same transaction (the ledger's entries once a batch is
        due, or ``everything``). Only ``admission``'s transactions keep ``AdmissionReads``;
        any other may write what they hold."""
        with self._locked(), _errors(what):
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                if admission:
                    self._reads.begin(db)
                else:
                    self._reads.forget()
                written = self._write_behind(db, everything=everything)
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self.behind.written(*written)
            self._last_tx = time.monotonic()

    @contextmanager
    def _snapshot(self, what: str) -> Iterator[sqlite3.Connection]:
        """Reads in one read transaction: a consistent view, without SQLite's write lock (WAL
        lets it run beside a writer of another process)."""
        with self._locked(), _errors(what):
            self.flush()
            db = self._conn()
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")

    @contextmanager
    def _read(self, what: str) -> Iterator[sqlite3.Connection]:
        """Reads, and single statements (atomic on their own in autocommit mode)."""
        with self._locked(), _errors(what):
            self.flush()
            self._reads.forget()  # settle, release_probe and record write through here
            yield self._conn()

    # -- settlements written behind ----------------------------------------------------------
    def _write_behind(self, db: sqlite3.Connection, *, everything: bool) -> tuple[int, int]:
        """What waits behind, in the caller's transaction (``Behind.write``), and the ledger's
        prune after new entries."""
        if not self.behind:
            return 0, 0
        settled, recorded = self.behind.write(db, everything=everything)
        newest = self.behind.newest_entry_ts(recorded)
        if newest is not None:
            self._prune_ledger(db, newest)
        return settled, recorded

    def flush(self) -> None:
        """Write every settlement and ledger entry kept behind, in a transaction of their own
        (every read, ``close`` and the writer thread do)."""
        if self.behind:  # nothing: no lock taken (a forked child keeps none of its parent's)
            with self._tx("write settlements and ledger entries", everything=True):
                pass

    # the writer thread's view of the store (``_sqlite_behind.Flushable``)
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def idle_for(self) -> float:
        return time.monotonic() - self._last_tx

    @property
    def lock(self) -> threading.RLock:
        return self._turn.rlock

    # -- admission ------------------------------------------------------------------------
    def reserve(
        self,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        *,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> Admission:
        with self._tx("reserve", admission=True) as db:
            return self._reserve_in(db, scope, windows, tokens, now, budget)

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
        """The view and, when it leaves nothing to decide, the reservation, in one write
        transaction (``Store.view_and_reserve``): one transaction and two statements fewer
        than the view's reads and then the reservation."""
        with self._tx("read health and reserve", admission=True) as db:
            view = self._reads.view(db, provider_scope, key_scope, model_scope)
            if not view_allows(
                view, fingerprint=fingerprint, failures_to_trip=failures_to_trip, learned=learned
            ):
                return view, None
            return view, self._reserve_in(db, key_scope, windows, tokens, now, budget)

    def _reserve_in(
        self,
        db: sqlite3.Connection,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        now: float,
        budget: BudgetClaim | None,
    ) -> Admission:
        """``reserve`` inside the caller's transaction."""
        tokens = max(0, int(tokens))
        if budget is not None:  # first, as ``decide`` checks the budget before the windows
            worst, _ = self._check(db, budget.scope, (budget.window,), budget.micros, now)
            if worst is not None:
                return _common.refusal(worst[0], worst[1], tokens=budget.micros)
        row = self._reads.block(db, scope)
        if row is not None and row[0] > now:
            return _common.blocked(Block(until=row[0], reason=row[1]))
        worst, used = self._check(db, scope, windows, tokens, now)
        if worst is not None:
            return _common.refusal(worst[0], worst[1], tokens=tokens)
        hold = None
        if budget is not None:
            hold = db.execute(
                "INSERT INTO reservations (scope, ts, tokens) VALUES (?, ?, ?)",
                (budget.scope, now, budget.micros),
            ).lastrowid
            self._prune(db, budget.scope, (budget.window,), now)
        cur = db.execute(
            "INSERT INTO reservations (scope, ts, tokens, hold) VALUES (?, ?, ?, ?)",
            (scope, now, tokens, hold),
        )
        self._prune(db, scope, windows, now)
        return Admission(ok=True, reservation_id=str(cur.lastrowid), used=used)

    def _check(
        self, db: sqlite3.Connection, scope: str, windows: Sequence[Window], amount: int, now: float
    ) -> tuple[tuple[Window, float | None] | None, tuple[int, ...]]:
        """The refusal of ``windows`` that binds longest (None when ``amount`` fits them all),
        and what each would hold with it (``Admission.used``)."""
        totals = wins.refresh(db, scope, windows, now, self._periods)
        worst: tuple[Window, float | None] | None = None
        after = []
        for w in windows:
            t = totals[wins.shape(w)]
            need = _common.cost(w, amount)
            used = _common.used(w, t.requests, t.tokens)
            after.append(_common.used_after(w, t.requests, t.tokens, amount))
            if w.limit > 0 and used + need > w.limit:
                refused = (w, wins.retry_at(db, scope, w, t, need=need, used=used))
                if _common.later(worst, refused):
                    worst = refused
        return worst, tuple(after)

    def _prune(
        self, db: sqlite3.Connection, scope: str, windows: Sequence[Window], now: float
    ) -> None:
        if now - self._pruned.get(scope, float("-inf")) >= PRUNE_EVERY:
            self._pruned[scope] = now
            wins.prune(db, scope, windows, now)

    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        """One statement; the ``reservation_settled`` trigger adjusts the window totals."""
        with self._read("settle") as db:
            db.execute(
                "UPDATE reservations SET tokens = ? WHERE id = ? AND scope = ?",
                (max(0, int(tokens)), _rid(reservation_id), scope),
            )

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        """The settle, the budget claim's real cost and the ledger entry, written behind: in
        this process's next transaction, in one of their own once it is idle (see the module)."""
        with self._locked():
            self.behind.keep(scope, _rid(reservation_id), max(0, int(tokens)), entry)
        self._writer.wake(self)

    def release(self, scope: str, reservation_id: str) -> None:
        """The ``reservation_released`` trigger adjusts the window totals (the budget's too)."""
        with self._tx("release") as db:
            row = db.execute(
                "DELETE FROM reservations WHERE id = ? AND scope = ? RETURNING hold",
                (_rid(reservation_id), scope),
            ).fetchall()
            if row and row[0][0] is not None:
                db.execute("DELETE FROM reservations WHERE id = ?", (row[0][0],))

    def usage(self, scope: str, windows: Sequence[Window], *, now: float) -> list[WindowUsage]:
        out = []
        with self._snapshot("read usage") as db:  # a reader: no write lock, nothing saved
            totals = wins.refresh(db, scope, windows, now, self._periods, save=False)
            newest = wins.newest(db, scope)
        for w in windows:
            t = totals[wins.shape(w)]
            used = _common.used(w, t.requests, t.tokens)
            resets: float | None = None
            if used > 0:
                resets = t.hi if not w.rolling else (newest or now) + w.period
            out.append(WindowUsage(w.name, w.limit, used, resets))
        return out

    # -- blocks -----------------------------------------------------------------------------
    def block(self, scope: str, *, until: float, reason: str) -> Block:
        with self._tx("store a block") as db:
            db.execute(
                "INSERT INTO blocks (scope, until, reason) VALUES (?, ?, ?) "
                "ON CONFLICT (scope) DO UPDATE SET until = excluded.until, reason = excluded.reason"
                " WHERE excluded.until > blocks.until",
                (scope, until, self._scrub(reason)),
            )
            row = db.execute(
                "SELECT until, reason FROM blocks WHERE scope = ?", (scope,)
            ).fetchone()
        return Block(until=row[0], reason=row[1])

    def get_block(self, scope: str, *, now: float) -> Block | None:
        with self._read("read a block") as db:
            row = db.execute(
                "SELECT until, reason FROM blocks WHERE scope = ? AND until > ?", (scope, now)
            ).fetchone()
        return Block(until=row[0], reason=row[1]) if row is not None else None

    def clear_block(self, scope: str) -> None:
        with self._tx("clear a block") as db:
            db.execute("DELETE FROM blocks WHERE scope = ?", (scope,))

    # -- health -----------------------------------------------------------------------------
    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        with self._read("read health and learned limits") as db:
            return self._reads.view(db, provider_scope, key_scope, model_scope)

    def get_health(self, scope: str) -> HealthRecord | None:
        with self._read("read health") as db:
            return schema.read_health(db, scope)

    def trip(
        self, scope: str, *, until: float, kind: str, message: str, now: float
    ) -> HealthRecord:
        message = self._scrub(message)
        with self._tx("record a failure") as db:
            rec = health.tripped(
                schema.read_health(db, scope), until=until, kind=kind, message=message, now=now
            )
            schema.write_health(db, scope, rec)
        return rec

    def note_error(self, scope: str, *, kind: str, message: str, now: float) -> HealthRecord:
        message = self._scrub(message)
        with self._tx("record an error") as db:
            rec = health.noted(schema.read_health(db, scope), kind=kind, message=message, now=now)
            schema.write_health(db, scope, rec)
        return rec

    def mark_auth_failed(
        self, scope: str, *, fingerprint: str, message: str, now: float
    ) -> HealthRecord:
        message = self._scrub(message)
        with self._tx("record an auth failure") as db:
            rec = health.auth_failed(
                schema.read_health(db, scope), fingerprint=fingerprint, message=message, now=now
            )
            schema.write_health(db, scope, rec)
        return rec

    def record_success(self, scope: str) -> None:
        with self._tx("record a success") as db:
            rec = schema.read_health(db, scope)
            if rec is not None:
                schema.write_health(db, scope, health.succeeded(rec))

    def try_acquire_probe(self, scope: str, *, now: float, ttl: float) -> bool:
        with self._tx("take the probe") as db:
            rec = schema.read_health(db, scope) or HealthRecord()
            if rec.probe_until > now:
                return False
            rec.probe_until = now + ttl
            schema.write_health(db, scope, rec)
        return True

    def release_probe(self, scope: str) -> None:
        with self._read("release the probe") as db:  # one statement: atomic on its own
            db.execute("UPDATE health SET probe_until = 0 WHERE scope = ?", (scope,))

    def clear_health(self, scope: str) -> None:
        with self._tx("clear health") as db:
            rec = schema.read_health(db, scope)
            if rec is not None:
                schema.write_health(db, scope, health.cleared(rec))

    # -- learned limits -----------------------------------------------------------------------
    def put_learned_limits(self, scope: str, limits: dict[str, int]) -> None:
        with self._tx("store learned limits") as db:
            db.executemany(
                "INSERT INTO learned_limits (scope, window, value) VALUES (?, ?, ?) "
                "ON CONFLICT (scope, window) DO UPDATE SET value = excluded.value",
                [(scope, k, int(v)) for k, v in limits.items()],
            )

    def get_learned_limits(self, scope: str) -> dict[str, int]:
        with self._read("read learned limits") as db:
            rows = db.execute(
                "SELECT window, value FROM learned_limits WHERE scope = ?", (scope,)
            ).fetchall()
        return {k: int(v) for k, v in rows}

    # -- ledger -------------------------------------------------------------------------------
    def record(self, entry: LedgerEntry) -> None:
        with self._read("record to the ledger") as db:  # one statement, totals by trigger
            schema.insert_ledger(db, entry)
            self._prune_ledger(db, entry.ts)

    def _prune_ledger(self, db: sqlite3.Connection, now: float) -> None:
        """At most once an hour of entry time: raw rows past the retention go (the day's totals
        and roll-ups stay; SQLite reuses the freed pages, so the file stops growing)."""
        if now - self._ledger_pruned >= PRUNE_LEDGER_EVERY:
            self._ledger_pruned = now
            schema.prune_ledger(db, now - self.ledger_retention)

    def rollup_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[RollupRow]:
        with self._read("read daily roll-ups") as db:
            return schema.read_rollups(db, since_day, until_day)

    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]:
        with self._read("read daily totals") as db:
            return schema.read_totals(db, since_day, until_day)

    def ledger_entries(self, *, limit: int = 100) -> list[LedgerEntry]:
        with self._read("read the ledger") as db:
            return schema.read_ledger(db, limit)

    # -- lifecycle ----------------------------------------------------------------------------
    def check(self) -> StoreHealth:
        extra = {"path": str(self.path)}
        try:
            with self._read("check") as db:
                mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        except StorageError as exc:
            return StoreHealth(backend=self.backend, ok=False, detail=str(exc), extra=extra)
        return StoreHealth(backend=self.backend, ok=True, extra={**extra, "journal_mode": mode})

    def reset(self) -> None:
        with self._tx("reset") as db:
            for table in schema.DATA_TABLES:
                db.execute(f"DELETE FROM {table}")
        self._pruned.clear()
        self._ledger_pruned = float("-inf")

    def close(self) -> None:
        """Write what is kept behind, then close (a store that cannot write says so in the
        log: its entries are lost, as they would be in a crash)."""
        with self._locked():
            try:
                self.flush()
            except StorageError as exc:
                log.error("llmswitch: %s; %d ledger entries lost", exc, self.behind.entries)
            self._closed = True
            self._writer.stop(self)
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._turn.close()
            self._db = None


def _rid(reservation_id: str) -> int:
    """Reservation ids are row ids; anything else matches no row."""
    try:
        return int(reservation_id)
    except ValueError:
        return -1
