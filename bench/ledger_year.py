"""Retention: how big the SQLite state file gets in a year at one call a second.

Issue 16 measured 73 bytes a ledger row and about 2.3 GB a year at one call a second, because
nothing was ever pruned. Now raw rows live ``ledger_retention_days`` (default 7) and daily
roll-ups per provider, model and key for good. This writes a simulated year of calls (timestamps
one second apart on a FakeClock-style timeline, two providers, two models, two keys) into a
real ``SqliteStore`` and records the file sizes as it goes.

The rows, the triggers (daily totals, roll-ups, the entry-id index) and the hourly prune are
the store's own; only the commits are batched (one transaction per simulated hour instead of
one per call), so a year takes minutes instead of hours. What the file holds is the same.

Run: ``.venv/bin/python -m bench.ledger_year [--days 365] [--retention-days 7]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _common as c

T0 = 1_780_000_000.0
HOUR = 3600


def _size(path: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(path.parent.glob(path.name + "*"))}


def run(
    *, days: int = 365, retention_days: float = 7.0, out_dir: Path | None = None
) -> dict[str, Any]:
    from llmswitch import _ledger as ledger
    from llmswitch._state import _sqlite_schema as schema
    from llmswitch._state.sqlite import SqliteStore
    from llmswitch._types import Usage

    folder = Path(tempfile.mkdtemp(prefix="llmswitch-year-"))
    path = folder / "state.db"
    store = SqliteStore(path, ledger_retention_days=retention_days)
    usage = Usage(prompt_tokens=120, completion_tokens=40)
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    for hour in range(days * 24):
        with store._tx("bench: an hour of calls") as db:  # the store's own transaction
            base = T0 + hour * HOUR
            for s in range(HOUR):
                i = hour * HOUR + s
                e = ledger.entry(
                    ts=base + s,
                    provider=("groq", "gemini")[i % 2],
                    key_alias=("KEY_1", "KEY_2")[(i // 2) % 2],
                    model=("model-a", "model-b")[(i // 4) % 2],
                    outcome="ok" if i % 50 else "rate_limited",
                    usage=usage,
                    cost=0.0,
                    latency_s=0.4,
                    free=True,
                )
                schema.insert_ledger(db, e)
            store._prune_ledger(db, base + HOUR - 1)
        if (hour + 1) % (24 * 7) == 0 or hour + 1 == days * 24:
            sizes = _size(path)
            samples.append({"day": (hour + 1) // 24, "bytes": sizes})
            print(f"day {(hour + 1) // 24:4d}: {sizes}", flush=True)
    with store._read("bench: count") as db:
        rows = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
        rollups = db.execute("SELECT count(*) FROM rollups").fetchone()[0]
    store.close()
    final = _size(path)
    result = {
        "machine": c.machine(),
        "days": days,
        "calls": days * 24 * HOUR,
        "retention_days": retention_days,
        "raw_rows_kept": rows,
        "rollup_rows": rollups,
        "bytes": final,
        "total_mb": round(sum(final.values()) / 1e6, 1),
        "samples": samples,
        "seconds": round(time.perf_counter() - started, 1),
    }
    c.write_result("ledger_year", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--retention-days", type=float, default=7.0)
    args = parser.parse_args()
    r = run(days=args.days, retention_days=args.retention_days)
    print(
        f"{r['calls']:,} calls over {r['days']} days: {r['raw_rows_kept']:,} raw rows kept, "
        f"{r['rollup_rows']:,} roll-ups, {r['total_mb']} MB on disk ({r['seconds']} s)"
    )


if __name__ == "__main__":
    main()
