"""Running window totals in SQLite, so a reserve does not sum a day of reservations.

Table ``window_totals`` keeps, per scope and window *shape* (``r:<period>`` rolling,
``c:<zone>`` calendar), the requests and tokens of the reservations it counts: those with
``lo < ts < hi`` (rolling: ``lo`` is the edge that slid, ``hi`` infinite) or ``lo <= ts < hi``
(calendar: the day's bounds). Reserve advances a rolling edge by subtracting only what slid out
since the last call; a new day or a shape seen for the first time (or idle too long) is counted
from the reservations once. Triggers (see ``_sqlite_schema``) apply every insert, settle and
release to all rows of the scope that count the entry, so rows never drift from the table they
summarize. Callers hold the transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from llmswitch._quota import DAY, Window
from llmswitch._state import _common

STALE = 3600.0  # a rolling row idle this long past its period is recounted from scratch
DROP_AFTER = 2 * DAY  # rows idle this long are deleted (and recounted if used again)
INF = float("inf")


@dataclass(slots=True)
class Totals:
    rolling: bool
    lo: float
    hi: float
    requests: int
    tokens: int


def shape(w: Window) -> str:
    return f"r:{w.period:g}" if w.rolling else f"c:{w.reset}"


def refresh(
    db: sqlite3.Connection,
    scope: str,
    windows: Sequence[Window],
    now: float,
    periods: _common.CalendarPeriods,
    *,
    save: bool = True,
) -> dict[str, Totals]:
    """Every shape of ``windows`` brought up to ``now``, keyed by ``shape``; saved unless
    ``save`` is False (a reader: the next writer advances from the saved rows just the same)."""
    rows = {
        r[0]: Totals(bool(r[1]), r[2], r[3], r[4], r[5])
        for r in db.execute(
            "SELECT shape, rolling, lo, hi, requests, tokens FROM window_totals WHERE scope = ?",
            (scope,),
        )
    }
    changed: dict[str, Totals] = {}
    added: dict[str, Totals] = {}
    for w in windows:
        key = shape(w)
        if key in changed or key in added:
            continue
        old = rows.get(key)
        new = _advance(db, scope, w, old, now, periods)
        if new is not old:
            (changed if old is not None else added)[key] = rows[key] = new
    if changed and save:  # an UPDATE writes the row's page; a REPLACE its index's page too
        db.executemany(
            "UPDATE window_totals SET rolling = ?, lo = ?, hi = ?, requests = ?, tokens = ?"
            " WHERE scope = ? AND shape = ?",
            [(t.rolling, t.lo, t.hi, t.requests, t.tokens, scope, k) for k, t in changed.items()],
        )
    if added and save:
        db.executemany(
            "INSERT OR REPLACE INTO window_totals (scope, shape, rolling, lo, hi, requests, tokens)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(scope, k, t.rolling, t.lo, t.hi, t.requests, t.tokens) for k, t in added.items()],
        )
    return rows


def _advance(
    db: sqlite3.Connection,
    scope: str,
    w: Window,
    old: Totals | None,
    now: float,
    periods: _common.CalendarPeriods,
) -> Totals:
    if not w.rolling:
        start, end = periods.period(w.reset, now)
        if old is not None and old.lo == start:
            return old
        n, t = _sum(db, "scope = ? AND ts >= ? AND ts < ?", (scope, start, end))
        return Totals(False, start, end, n, t)
    edge = now - w.period
    if old is None or old.lo < edge - STALE:
        n, t = _sum(db, "scope = ? AND ts > ?", (scope, edge))
        return Totals(True, edge, INF, n, t)
    if edge <= old.lo:
        return old  # a clock behind the last caller's: keep the later edge
    n, t = _sum(db, "scope = ? AND ts > ? AND ts <= ?", (scope, old.lo, edge))
    return Totals(True, edge, INF, old.requests - n, old.tokens - t)


def _sum(db: sqlite3.Connection, where: str, args: tuple[object, ...]) -> tuple[int, int]:
    row = db.execute(f"SELECT count(*), total(tokens) FROM reservations WHERE {where}", args)
    n, t = row.fetchone()
    return int(n), int(t)


def retry_at(
    db: sqlite3.Connection, scope: str, w: Window, t: Totals, *, need: int, used: int
) -> float | None:
    """When the oldest counted entries free enough room (rolling) or the day ends (calendar)."""
    if need > w.limit:
        return None
    if not w.rolling:
        return t.hi
    excess, freed = used + need - w.limit, 0
    if w.unit == "requests":
        row = db.execute(
            "SELECT ts FROM reservations WHERE scope = ? AND ts > ? ORDER BY ts LIMIT 1 OFFSET ?",
            (scope, t.lo, excess - 1),
        ).fetchone()
        return float(row[0]) + w.period if row is not None else None
    rows = db.execute(
        "SELECT ts, tokens FROM reservations WHERE scope = ? AND ts > ? ORDER BY ts",
        (scope, t.lo),
    )
    for ts, tok in rows:
        freed += tok
        if freed >= excess:
            return float(ts) + w.period
    return None


def newest(db: sqlite3.Connection, scope: str) -> float | None:
    row = db.execute("SELECT max(ts) FROM reservations WHERE scope = ?", (scope,)).fetchone()
    return float(row[0]) if row[0] is not None else None


def prune(db: sqlite3.Connection, scope: str, windows: Sequence[Window], now: float) -> None:
    """Forget idle rows, then reservations that no row (and no window) can still count."""
    db.execute("DELETE FROM window_totals WHERE scope = ? AND lo < ?", (scope, now - DROP_AFTER))
    (lowest,) = db.execute("SELECT min(lo) FROM window_totals WHERE scope = ?", (scope,)).fetchone()
    edge = now - _common.retain_seconds(windows)
    if lowest is not None:
        edge = min(edge, lowest)
    db.execute("DELETE FROM reservations WHERE scope = ? AND ts < ?", (scope, edge))
