"""SQLite keeps admission's reads (circuits, learned limits, blocks) while nobody else writes.

What a user must never see: a call admitted past a circuit another process just opened, a key
used after a 429 blocked it, a limit learned a moment ago ignored. Every case below reads once
(so there is something kept), changes the file (from this store, from a second store on the
same file, from another process), and admits again.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmswitch._quota import make_window
from llmswitch._state.sqlite import SqliteStore

T0 = 1_780_000_000.0
KEY = "groq:GROQ_API_KEY"
PROVIDER = "provider:groq"
MODEL = "model:groq/openai/gpt-oss-120b"
RPM = [make_window("rpm", 100)]


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture()
def stores(path: Path) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    mine, other = SqliteStore(path), SqliteStore(path)
    yield mine, other
    mine.close()
    other.close()


def ask(store: SqliteStore, *, now: float = T0, learned: dict[str, int] | None = None) -> Any:
    return store.view_and_reserve(
        PROVIDER,
        KEY,
        MODEL,
        fingerprint="fp1",
        failures_to_trip=1,
        learned={} if learned is None else learned,
        windows=RPM,
        tokens=10,
        now=now,
    )


def admitted(store: SqliteStore, **kw: Any) -> bool:
    _, adm = ask(store, **kw)
    return adm is not None and adm.ok


Change = Callable[[SqliteStore], object]
CHANGES: dict[str, tuple[Change, Callable[[Any], bool]]] = {
    # what changes the file, and how the next admission must show it
    "provider circuit opened": (
        lambda s: s.trip(PROVIDER, until=T0 + 300, kind="server_error", message="500", now=T0),
        lambda r: r[1] is None and r[0].provider_health.consecutive_failures == 1,
    ),
    "model circuit opened": (
        lambda s: s.trip(MODEL, until=T0 + 300, kind="server_error", message="500", now=T0),
        lambda r: r[1] is None and r[0].model_health is not None,
    ),
    "key refused": (
        lambda s: s.mark_auth_failed(KEY, fingerprint="fp1", message="401", now=T0),
        lambda r: r[1] is None and r[0].key_health.auth_failed_fingerprint == "fp1",
    ),
    "limit learned": (
        lambda s: s.put_learned_limits(KEY, {"rpm": 7}),
        lambda r: r[1] is None and r[0].learned_limits == {"rpm": 7},
    ),
    "key blocked": (
        lambda s: s.block(KEY, until=T0 + 60, reason="429 from groq"),
        lambda r: r[1] is not None and not r[1].ok and r[1].retry_at == T0 + 60,
    ),
}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("by", ["this store", "another store on the file"])
def test_a_change_is_seen_by_the_next_admission(
    stores: tuple[SqliteStore, SqliteStore], change: str, by: str
) -> None:
    mine, other = stores
    assert admitted(mine) and admitted(mine)  # read twice: the second from what was kept
    write, seen = CHANGES[change]
    write(mine if by == "this store" else other)
    assert seen(ask(mine))


@pytest.mark.parametrize("by", ["this store", "another store on the file"])
def test_a_closed_circuit_and_a_cleared_block_let_calls_through_again(
    stores: tuple[SqliteStore, SqliteStore], by: str
) -> None:
    mine, other = stores
    writer = mine if by == "this store" else other
    mine.trip(PROVIDER, until=T0 + 300, kind="server_error", message="500", now=T0)
    mine.block(KEY, until=T0 + 60, reason="429")
    assert not admitted(mine) and not admitted(mine)
    writer.record_success(PROVIDER)
    writer.clear_block(KEY)
    assert admitted(mine)


def test_another_process_opening_the_circuit_is_seen_at_once(path: Path) -> None:
    store = SqliteStore(path)
    try:
        assert admitted(store) and admitted(store)
        script = textwrap.dedent(
            f"""
            from llmswitch._state.sqlite import SqliteStore
            s = SqliteStore({str(path)!r})
            s.trip({PROVIDER!r}, until={T0 + 300}, kind="server_error", message="500", now={T0})
            s.close()
            """
        )
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        view, adm = ask(store)
        assert adm is None
        assert view.provider_health is not None and view.provider_health.open_until == T0 + 300
    finally:
        store.close()


def test_an_unchanged_file_is_not_read_again(stores: tuple[SqliteStore, SqliteStore]) -> None:
    mine, other = stores
    assert admitted(mine)
    statements: list[str] = []
    db = mine._conn()
    db.set_trace_callback(statements.append)
    try:
        assert admitted(mine)
        kept = [s for s in statements if _reads_kept_tables(s)]
        assert kept == []  # circuits, learned limits and blocks: from what was kept
        other.put_learned_limits("together:TOGETHER_API_KEY", {"rpm": 60})  # any commit
        statements.clear()
        assert admitted(mine)
        assert len([s for s in statements if _reads_kept_tables(s)]) == 3
    finally:
        db.set_trace_callback(None)


def _reads_kept_tables(statement: str) -> bool:
    return statement.startswith("SELECT") and any(
        f"FROM {table} " in statement for table in ("health", "learned_limits", "blocks")
    )


def test_the_view_handed_out_is_the_callers_own(stores: tuple[SqliteStore, SqliteStore]) -> None:
    mine, _ = stores
    mine.put_learned_limits(KEY, {"rpm": 50})
    view, _ = ask(mine, learned={"rpm": 50})
    view.learned_limits["rpm"] = 1  # a caller that changes its copy
    again, adm = ask(mine, learned={"rpm": 50})
    assert again.learned_limits == {"rpm": 50} and adm is not None and adm.ok


def test_a_write_behind_every_stores_back_is_seen(path: Path) -> None:
    store = SqliteStore(path)
    try:
        assert admitted(store)
        raw = sqlite3.connect(path, isolation_level=None)  # behind every store's back
        raw.execute(
            "INSERT INTO blocks (scope, until, reason) VALUES (?, ?, ?)", (KEY, T0 + 60, "429")
        )
        raw.close()
        assert not admitted(store)
    finally:
        store.close()
