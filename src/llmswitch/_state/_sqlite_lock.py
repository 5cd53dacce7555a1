"""Whose turn it is at the SQLite file, and whether waiting for it may stall a caller.

Threads of one process take turns on this process's lock (``TurnLock.held``), not in SQLite's
busy handler; processes take turns on SQLite's write lock. ``may_wait`` tells the async router
whether a state step would wait on either, so that it runs the step on the event loop (tens of
microseconds) or on a thread (a wait for another process can last as long as its transaction).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

CONTENDED_FOR = 5.0  # seconds a lock seen taken by another process keeps ``may_wait`` true
HELD_LONG = 0.001  # seconds one of our threads holds our lock before ``may_wait`` says so


class TurnLock:
    """This process's lock on one SQLite file, and the probe of SQLite's own.

    Args:
        path: the database file (the probe opens its own connection to it).
        timer: monotonic seconds (injected by tests).
    """

    def __init__(self, path: Path, timer: Callable[[], float]) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self._timer = timer
        self._contended_until = float("-inf")
        self._held_since = float("inf")  # when one of our threads took our lock
        self._depth = 0  # how deep the thread holding our lock is in it (it is reentrant)
        self._probe: sqlite3.Connection | None = None
        self._probe_pid = 0
        _LIVE.add(self)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Our lock, for one store operation; when it was taken is kept for ``may_wait``."""
        with self.rlock:
            self._depth += 1
            if self._depth == 1:
                self._held_since = self._timer()
            try:
                yield
            finally:
                self._depth -= 1

    def may_wait(self) -> bool:
        """Whether the next call may wait for a lock: while ours is taken right now (another
        thread of this process is in the store: the writer thread, a step on the pool), and
        while SQLite's write lock is taken by another process, and for ``CONTENDED_FOR``
        seconds after that was seen. Read with a non-blocking try of ours and ``BEGIN
        IMMEDIATE`` on a probe connection that never waits (about 11 us): a slow but free lock
        (a busy machine) is not contention. Uncontended, a step takes tens of microseconds and
        runs on the event loop, where a thread hop would cost hundreds; while processes queue
        for the file it goes to a thread. Between the probe and the step another process may
        still take the lock: the step then waits as long as that one transaction, not for a
        lock held for long. (A free verdict is not kept, even for milliseconds: a process that
        took the lock since would stall the loop for as long as it holds it.)

        Only another process is remembered, and our own threads count only once one has held
        our lock for ``HELD_LONG``: they hold it for one step at a time. Counting every holder,
        and remembering it, made the pool self-sustaining: once steps ran there they held the
        lock whenever the loop looked, and every look renewed the 5 s (a gateway stayed on
        threads at half its throughput after one collision with the writer thread)."""
        now = self._timer()
        if now < self._contended_until:
            return True
        if not self.rlock.acquire(blocking=False):
            # one of our threads is inside: wait for it here if it only just went in (a step,
            # the writer's flush), on a thread if it has been there a while (a long read)
            return now - self._held_since > HELD_LONG
        try:
            probe = self._probe_conn()
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except (sqlite3.Error, OSError):
            self._contended_until = self._timer() + CONTENDED_FOR
            return True
        finally:
            self.rlock.release()
        return False

    def _probe_conn(self) -> sqlite3.Connection:
        """A second connection of this process that fails at once on a taken lock."""
        if self._probe is None or self._probe_pid != os.getpid():
            self._probe = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0
            )
            self._probe_pid = os.getpid()
        return self._probe

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock. The parent's may have been held by another of its
        threads (the writer thread's flush, a step on the pool) at the fork, and that thread
        does not exist here to release it: the child's first store call would wait forever."""
        self.rlock = threading.RLock()
        self._depth = 0
        self._held_since = float("inf")

    def close(self) -> None:
        """Close the probe's connection (the caller holds our lock)."""
        if self._probe is not None and self._probe_pid == os.getpid():
            self._probe.close()
        self._probe = None


_LIVE: weakref.WeakSet[TurnLock] = weakref.WeakSet()


def _renew_in_child() -> None:
    for turn in list(_LIVE):
        turn._after_fork()


os.register_at_fork(after_in_child=_renew_in_child)
