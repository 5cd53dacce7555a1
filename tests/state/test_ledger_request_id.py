"""Every backend keeps the request id of each ledger entry, and an older SQLite file gains it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from llmswitch._ledger import LedgerEntry, entry
from llmswitch._quota import make_window
from llmswitch._state.base import Store
from llmswitch._state.sqlite import SqliteStore
from llmswitch._types import Usage
from tests.state.conftest import Reopen

T0 = 1_780_000_000.0
SCOPE = "groq:GROQ_API_KEY"


def attempt(request_id: str, ts: float = T0, outcome: str = "ok") -> LedgerEntry:
    return entry(
        ts=ts,
        provider="groq",
        key_alias="GROQ_API_KEY",
        model="m",
        outcome=outcome,
        usage=Usage(10, 5),
        cost=0.0,
        latency_s=0.1,
        free=True,
        request_id=request_id,
    )


def test_the_request_id_is_kept_and_read_back(store: Store, reopen: Reopen, backend: str) -> None:
    store.record(attempt("trace-1", outcome="server_error"))
    adm = store.reserve(SCOPE, [make_window("rpm", 10)], 100, now=T0)
    store.settle_and_record(SCOPE, adm.reservation_id, 15, attempt("trace-1", T0 + 1), now=T0 + 1)
    store.record(attempt("trace-2", T0 + 2))
    got = [(e.request_id, e.outcome) for e in store.ledger_entries(limit=10)]
    assert got == [("trace-2", "ok"), ("trace-1", "ok"), ("trace-1", "server_error")]
    if backend != "memory":
        assert [e.request_id for e in reopen().ledger_entries(limit=10)] == [
            "trace-2",
            "trace-1",
            "trace-1",
        ]


def test_an_older_file_gains_the_column_and_keeps_its_rows(tmp_path: Path) -> None:
    """A ledger from before request ids: its rows read back with an empty id, new rows carry
    theirs, and an older llmswitch still sharing the file (naming only its own columns) can go on
    inserting."""
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE ledger")
        db.execute(
            "CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "
            "day TEXT NOT NULL, provider TEXT NOT NULL, key_alias TEXT NOT NULL, "
            "model TEXT NOT NULL, outcome TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, "
            "completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, "
            "latency_s REAL NOT NULL, free INTEGER NOT NULL, entry_id TEXT)"
        )
        db.execute(
            "INSERT INTO ledger (ts, day, provider, key_alias, model, outcome, prompt_tokens, "
            "completion_tokens, cost_usd, latency_s, free, entry_id) "
            "VALUES (?, '2026-05-28', 'groq', 'GROQ_API_KEY', 'm', 'ok', 1, 1, 0, 0.1, 1, 'old')",
            (T0,),
        )
    store = SqliteStore(path)
    store.record(attempt("req_new", T0 + 1))
    with sqlite3.connect(path) as db:  # an older llmswitch writes without the column
        db.execute(
            "INSERT INTO ledger (ts, day, provider, key_alias, model, outcome, prompt_tokens, "
            "completion_tokens, cost_usd, latency_s, free, entry_id) "
            "VALUES (?, '2026-05-28', 'groq', 'GROQ_API_KEY', 'm', 'ok', 1, 1, 0, 0.1, 1, 'o2')",
            (T0 + 2,),
        )
    assert [e.request_id for e in store.ledger_entries(limit=10)] == ["", "req_new", ""]
    store.close()
    SqliteStore(path).close()  # a second open finds the column and adds nothing
    with sqlite3.connect(path) as db:
        count = "SELECT count(*) FROM pragma_table_info('ledger') WHERE name = 'request_id'"
        assert db.execute(count).fetchone()[0] == 1
