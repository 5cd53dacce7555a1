"""What only the SQLite store promises: pruning, schema versioning, WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmswitch.errors import StorageError
from llmswitch.quota import make_window
from llmswitch.state.sqlite import SqliteStore

T0 = 1_780_000_000.0
SCOPE = "groq:GROQ_API_KEY"


def rows(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(sql).fetchone()[0])


def test_old_reservations_are_pruned(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    windows = [make_window("rpm", 30), make_window("rpd", 1000)]
    for i in range(20):
        assert store.reserve(SCOPE, windows, 10, now=T0 + i).ok
    assert store.reserve(SCOPE, windows, 10, now=T0 + 3 * 86_400).ok
    store.close()
    assert rows(path, "SELECT count(*) FROM reservations") == 1


def test_a_new_window_counts_earlier_reservations(tmp_path: Path) -> None:
    """A limit learned later (say rpd from headers) starts from the day's real count."""
    store = SqliteStore(tmp_path / "s.db")
    for i in range(5):
        assert store.reserve(SCOPE, [make_window("rpm", 30)], 10, now=T0 + i).ok
    windows = [make_window("rpm", 30), make_window("rpd", 6)]
    assert store.reserve(SCOPE, windows, 10, now=T0 + 100).ok
    refused = store.reserve(SCOPE, windows, 10, now=T0 + 101)
    assert (refused.window, refused.retry_at) == ("rpd", T0 + 86_400)
    store.close()


def test_a_file_from_a_newer_llmswitch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StorageError, match="schema version 99") as info:
        SqliteStore(path)
    assert info.value.backend == "sqlite"


def test_unwritable_location_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StorageError, match="SQLite"):
        SqliteStore(tmp_path / "dir.db")
