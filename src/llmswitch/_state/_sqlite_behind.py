"""What the SQLite store writes behind: a call's settlement and its ledger entry.

A call's reservation must be written at once (it is what admission counts), but its settlement
and ledger entry can wait for this process's next transaction, usually the next call's
reservation: a call then costs one write transaction instead of two. The ledger entries wait
longer, for ``LEDGER_BATCH`` of them or ``FLUSH_AFTER`` seconds: a ledger row, its id index and
the day's two totals are four pages of the WAL, as many as the reservation, and a batch writes
them once. Nothing reads the ledger to admit (a budget holds its claims as reservations, and
those are settled with the next transaction), so only another process's reports see entries
later. ``WriterThread`` writes what is left once the store has been idle ``FLUSH_AFTER``
seconds; the store writes everything before any read, at ``close`` and at the interpreter's
exit (``flush_all``). See ``sqlite.py`` for what another process, and a ``kill -9``, see.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from typing import Protocol

from llmswitch._errors import StorageError
from llmswitch._ledger import LedgerEntry
from llmswitch._quota import micro_usd
from llmswitch._state import _sqlite_schema as schema

log = logging.getLogger("llmswitch")

FLUSH_AFTER = 0.05  # seconds without a transaction before the writer thread writes what waits
LEDGER_BATCH = 32  # ledger entries written together (or once the oldest waited FLUSH_AFTER)


class Behind:
    """This process's settlements and ledger entries not yet written.

    Not thread-safe on its own: the store calls it under its lock. A forked child does not
    inherit its parent's (the parent writes them).
    """

    def __init__(self) -> None:
        #: (scope, reservation id, tokens, the budget claim's real micro-dollars)
        self._settlements: list[tuple[str, int, int, int]] = []
        self._entries: list[LedgerEntry] = []
        self._since = 0.0  # time.monotonic() when the oldest entry was kept
        self._pid = os.getpid()

    def _own(self) -> None:
        if self._pid != os.getpid():
            self._settlements, self._entries, self._pid = [], [], os.getpid()

    def __bool__(self) -> bool:
        self._own()
        return bool(self._settlements or self._entries)

    @property
    def entries(self) -> int:
        """How many ledger entries wait."""
        self._own()
        return len(self._entries)

    def keep(self, scope: str, reservation: int, tokens: int, entry: LedgerEntry) -> None:
        self._own()
        self._settlements.append((scope, reservation, tokens, micro_usd(entry.cost_usd)))
        if not self._entries:
            self._since = time.monotonic()
        self._entries.append(entry)

    def write(self, db: sqlite3.Connection, *, everything: bool) -> tuple[int, int]:
        """Write, in the caller's transaction, every settlement and, once a batch is due (or
        ``everything``), the ledger entries. How many of each: ``written`` drops them once the
        transaction commits (a rollback keeps them for the next one)."""
        self._own()
        for scope, rid, tokens, micros in self._settlements:
            row = db.execute(
                "UPDATE reservations SET tokens = ? WHERE id = ? AND scope = ? RETURNING hold",
                (tokens, rid, scope),
            ).fetchall()  # all: a RETURNING statement is done only once read to its end
            if row and row[0][0] is not None:
                db.execute("UPDATE reservations SET tokens = ? WHERE id = ?", (micros, row[0][0]))
        entries = self._entries
        due = entries and (
            everything
            or len(entries) >= LEDGER_BATCH
            or time.monotonic() - self._since >= FLUSH_AFTER
        )
        if not due:
            return len(self._settlements), 0
        for entry in entries:
            schema.insert_ledger(db, entry)
        return len(self._settlements), len(entries)

    def newest_entry_ts(self, recorded: int) -> float | None:
        """The time of the last of the first ``recorded`` entries (the ledger prune's clock)."""
        return self._entries[recorded - 1].ts if recorded else None

    def written(self, settled: int, recorded: int) -> None:
        del self._settlements[:settled]
        del self._entries[:recorded]


class Flushable(Protocol):
    """What the writer thread needs of the store."""

    @property
    def closed(self) -> bool: ...

    @property
    def idle_for(self) -> float:
        """Seconds since the store's last write transaction."""
        ...

    @property
    def lock(self) -> threading.RLock: ...

    @property
    def behind(self) -> Behind: ...

    def flush(self) -> None: ...


class WriterThread:
    """Writes what waits once the store has been idle ``FLUSH_AFTER`` seconds.

    While calls keep coming it only looks (each call's reservation writes what waits), so it
    does not take the store's lock from a caller. It holds the store weakly: a dropped store
    ends it. Started on first use, again in a forked child (threads do not survive a fork).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def wake(self, store: Flushable) -> None:
        """Make sure the thread looks soon."""
        if self._thread is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._wanted = threading.Event()
            self._thread = threading.Thread(
                target=_write_when_idle,
                args=(weakref.ref(store), self._wanted),
                name=self._name,
                daemon=True,
            )
            self._thread.start()
            _OPEN.add(store)
        self._wanted.set()

    def stop(self, store: Flushable) -> None:
        """The store is closed: the thread sees it at its next look and ends."""
        self._wanted.set()
        _OPEN.discard(store)


def _write_when_idle(ref: weakref.ref[Flushable], wanted: threading.Event) -> None:
    while wanted.wait():
        time.sleep(FLUSH_AFTER)
        store = ref()
        if store is None or store.closed:
            return
        if store.idle_for < FLUSH_AFTER:
            continue  # calls are coming: the next reservation writes what waits
        wanted.clear()
        with store.lock:
            if store.behind:
                try:
                    store.flush()
                except StorageError as exc:  # kept: the next transaction tries again
                    log.warning("llmswitch: %s (will try again)", exc)
                    wanted.set()
        del store


#: stores with a writer thread, written once more at the interpreter's exit (daemon threads
#: are stopped without a word then)
_OPEN: weakref.WeakSet[Flushable] = weakref.WeakSet()


@atexit.register
def flush_all() -> None:
    for store in list(_OPEN):
        with contextlib.suppress(StorageError):
            store.flush()
