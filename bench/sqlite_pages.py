"""What one call writes to SQLite: statements, commits and WAL pages per call (issue 17).

Deterministic, unlike timings on a shared machine: the same calls write the same pages. A call
here is what the call machine asks of the store for one successful chat: the admission view
and the reservation (``view_and_reserve``), then the settlement with its ledger entry
(``settle_and_record``), over an rpm, a tpm and a calendar rpd window. The WAL is
checkpointed away first, then ``--calls`` calls are made and its growth is counted in frames.

Run: ``.venv/bin/python -m bench.sqlite_pages [--calls 1000]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from llmswitch._ledger import entry
from llmswitch._quota import make_window
from llmswitch._state.sqlite import SqliteStore
from llmswitch._types import Usage

WINDOWS = (
    make_window("rpm", 1_000_000),
    make_window("tpm", 1_000_000_000),
    make_window("rpd", 10_000_000, reset="utc"),
)
FRAME = 4096 + 24  # a WAL frame: one page and its header


def measure(calls: int) -> dict[str, float]:
    path = Path(tempfile.mkdtemp()) / "state.db"
    store = SqliteStore(path)
    db = store._conn()
    db.execute("PRAGMA wal_autocheckpoint = 0")  # count every frame the calls write
    statements: list[str] = []
    t0 = time.time()

    def one(i: int) -> None:
        now = t0 + i * 0.001
        _, adm = store.view_and_reserve(
            "provider:p",
            "p:KEY",
            "model:p/m",
            fingerprint="f",
            failures_to_trip=3,
            learned={},
            windows=WINDOWS,
            tokens=1_100,
            now=now,
        )
        assert adm is not None and adm.ok
        e = entry(
            ts=now,
            provider="p",
            key_alias="KEY",
            model="m",
            outcome="ok",
            usage=Usage(12, 3),
            cost=0.0,
            latency_s=0.001,
            free=True,
        )
        store.settle_and_record("p:KEY", adm.reservation_id, 15, e, now=now)

    for i in range(200):  # warm: the schema's pages, the windows' rows
        one(i)
    getattr(store, "flush", lambda: None)()  # (an llmswitch before issue 17 has none)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.set_trace_callback(statements.append)
    for i in range(200, 200 + calls):
        one(i)
    getattr(store, "flush", lambda: None)()  # (an llmswitch before issue 17 has none)
    db.set_trace_callback(None)
    frames = os.path.getsize(f"{path}-wal") / FRAME
    store.close()
    return {
        "statements": len(statements) / calls,
        "commits": statements.count("COMMIT") / calls,
        "wal_pages": frames / calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    r = measure(args.calls)
    print(
        f"per call: {r['statements']:.1f} statements, {r['commits']:.2f} commits, "
        f"{r['wal_pages']:.2f} WAL pages"
    )


if __name__ == "__main__":
    main()
