"""What admission reads from SQLite on every call, kept while nobody else has written the file.

Admission reads the circuits (``health``), the key's learned limits and its block on every
call, yet they change only on a failure, a 429 or a new rate-limit header: rarely. SQLite says
whether they may have changed: ``PRAGMA data_version`` changes when *another* connection (another
process, or another store on the same file) commits, and stays the same for this connection's own
commits. So, inside admission's write transaction (the lock is held: nobody can commit between
the check and the reads), an unchanged version means what this connection read last time is
still what the file holds, unless this connection wrote those tables itself; every transaction
of the store other than admission's forgets everything (``forget``), so its own writes never
leave a stale copy. Measured: three statements fewer per call (``bench/sqlite_pages.py``).

The reservation's windows are not kept: triggers change them at every settlement.

Example:
    >>> import os, sqlite3, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "state.db")
    >>> mine, other = (sqlite3.connect(path, isolation_level=None) for _ in range(2))
    >>> reads = AdmissionReads()
    >>> reads.begin(mine)  # the first transaction: nothing kept yet
    False
    >>> reads.begin(mine)  # nobody else committed since
    True
    >>> _ = other.execute("CREATE TABLE t (x)")  # another connection commits
    >>> reads.begin(mine)
    False
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from llmswitch._health import HealthRecord
from llmswitch._state import _sqlite_schema as schema
from llmswitch._state.base import AdmissionView

T = TypeVar("T")


class AdmissionReads:
    """The health records, learned limits and blocks admission read, by scope."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._kept: dict[tuple[str, ...], object] = {}

    def begin(self, db: sqlite3.Connection) -> bool:
        """At the start of admission's transaction: forget all if another connection wrote.

        Returns:
            True when what was kept still holds (no other connection committed since the last
            ``begin``).
        """
        (version,) = db.execute("PRAGMA data_version").fetchone()
        if version == self._version:
            return True
        self._kept.clear()
        self._version = version
        return False

    def forget(self) -> None:
        """Before any other transaction: it may write what is kept."""
        self._kept.clear()

    def view(
        self,
        db: sqlite3.Connection,
        provider_scope: str,
        key_scope: str,
        model_scope: str | None,
    ) -> AdmissionView:
        """``Store.admission_view``'s answer: the three circuits and the key's learned limits."""
        key = ("view", provider_scope, key_scope, model_scope or "")
        healths, learned = self._get(
            key, lambda: _read_view(db, provider_scope, key_scope, model_scope)
        )
        return AdmissionView(
            healths.get(provider_scope),
            healths.get(key_scope),
            dict(learned),  # the caller's own copy: admission keeps it
            healths.get(model_scope) if model_scope is not None else None,
        )

    def block(self, db: sqlite3.Connection, scope: str) -> tuple[float, str] | None:
        """The scope's block row (until, reason), expired or not; None when there is none."""
        return self._get(("block", scope), lambda: _read_block(db, scope))

    def _get(self, key: tuple[str, ...], read: Callable[[], T]) -> T:
        if key in self._kept:
            return self._kept[key]  # type: ignore[return-value]
        value = self._kept[key] = read()
        return value


def _read_view(
    db: sqlite3.Connection, provider_scope: str, key_scope: str, model_scope: str | None
) -> tuple[dict[str, HealthRecord], tuple[tuple[str, int], ...]]:
    """The three circuits in one statement and the key's learned limits in another."""
    scopes = (provider_scope, key_scope) + ((model_scope,) if model_scope is not None else ())
    healths = schema.read_healths(db, scopes)
    rows = db.execute("SELECT window, value FROM learned_limits WHERE scope = ?", (key_scope,))
    return healths, tuple((k, int(v)) for k, v in rows)


def _read_block(db: sqlite3.Connection, scope: str) -> tuple[float, str] | None:
    row = db.execute("SELECT until, reason FROM blocks WHERE scope = ?", (scope,)).fetchone()
    return (float(row[0]), str(row[1])) if row is not None else None
