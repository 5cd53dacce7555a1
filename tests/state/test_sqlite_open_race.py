"""Two processes opening the same new state file at once: the second must wait for the first's
schema lock, not fail. SQLite answers "database is locked" at once (no busy wait) to a
journal-mode change while another connection holds the write lock; the store retries it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from llmswitch._state.sqlite import SqliteStore


def test_opening_while_another_holds_the_write_lock_waits_instead_of_failing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")  # a new file, still in rollback-journal mode
    holder.execute("BEGIN IMMEDIATE")  # what another process's schema.create holds
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        store = SqliteStore(path)  # before the fix: StorageError "database is locked"
        assert store.check().ok
        store.close()
    finally:
        release.join()
        holder.close()
