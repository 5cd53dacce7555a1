"""What only the SQLite store promises: pruning, schema versioning, WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmswitch._errors import StorageError
from llmswitch._quota import make_window
from llmswitch._state.sqlite import SqliteStore

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


def test_a_file_from_before_opened_at_gains_the_columns_and_keeps_its_circuits(
    tmp_path: Path,
) -> None:
    """An older llmswitch's health table (no ``opened_at``/``opened_by``) is migrated on open."""
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE health")
        db.execute(
            "CREATE TABLE health (scope TEXT PRIMARY KEY, open_until REAL NOT NULL, "
            "consecutive_failures INTEGER NOT NULL, last_error_kind TEXT, "
            "last_error_message TEXT, last_error_at REAL, auth_failed_fingerprint TEXT, "
            "probe_until REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO health VALUES (?, ?, 1, 'server_error', '502', ?, NULL, 0)",
            (SCOPE, T0 + 300, T0),
        )
    store = SqliteStore(path)
    rec = store.get_health(SCOPE)
    assert rec is not None and (rec.open_until, rec.opened_at) == (T0 + 300, 0.0)
    again = store.trip(SCOPE, until=T0 + 600, kind="timeout", message="slow", now=T0 + 1)
    assert again.opened_at == 0.0  # still the old run; its start was never recorded
    store.record_success(SCOPE)
    fresh = store.trip(SCOPE, until=T0 + 900, kind="timeout", message="x", now=T0 + 2)
    assert (fresh.opened_at, fresh.opened_by) == (T0 + 2, "timeout")
    store.close()
    SqliteStore(path).close()  # a second open finds the columns and adds nothing
    columns = "SELECT count(*) FROM pragma_table_info('health') WHERE name LIKE 'opened_%'"
    assert rows(path, columns) == 2
