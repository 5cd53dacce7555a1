"""The SQLite schema and the row <-> value mapping, kept apart from the store's transactions.

Triggers keep the summaries (``window_totals``, ``daily_totals``) in step with the rows they
summarize inside the very statement that changes a row, so a settle, a release or a ledger
record is one atomic statement and no caller can forget half of it.

``schema_version`` lets a later llmswitch migrate a file written by this one, and refuse a file
written by a newer one instead of misreading it. A column added with a default (``_COLUMNS``)
is not a new version: ``create`` adds it to an older file, and an older llmswitch sharing the
file keeps working because it names the columns it reads and writes. Callers hold the
transaction; these helpers only read and write rows.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from llmswitch._errors import StorageError
from llmswitch._health import HealthRecord
from llmswitch._ledger import LedgerEntry, RollupRow, UsageRow

SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL, ts REAL NOT NULL, tokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS reservations_by_scope ON reservations (scope, ts);
CREATE TABLE IF NOT EXISTS window_totals (
    scope TEXT NOT NULL, shape TEXT NOT NULL, rolling INTEGER NOT NULL,
    lo REAL NOT NULL, hi REAL NOT NULL, requests INTEGER NOT NULL, tokens INTEGER NOT NULL,
    PRIMARY KEY (scope, shape));
CREATE TABLE IF NOT EXISTS blocks (
    scope TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS health (
    scope TEXT PRIMARY KEY, open_until REAL NOT NULL, consecutive_failures INTEGER NOT NULL,
    last_error_kind TEXT, last_error_message TEXT, last_error_at REAL,
    auth_failed_fingerprint TEXT, probe_until REAL NOT NULL,
    opened_at REAL NOT NULL DEFAULT 0, opened_by TEXT);
CREATE TABLE IF NOT EXISTS learned_limits (
    scope TEXT NOT NULL, window TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (scope, window));
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, day TEXT NOT NULL,
    provider TEXT NOT NULL, key_alias TEXT NOT NULL, model TEXT NOT NULL, outcome TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
    latency_s REAL NOT NULL, free INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS daily_totals (
    day TEXT NOT NULL, provider TEXT NOT NULL, requests INTEGER NOT NULL,
    succeeded INTEGER NOT NULL, failed INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, latency_s_total REAL NOT NULL,
    PRIMARY KEY (day, provider));
CREATE TABLE IF NOT EXISTS rollups (
    day TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, key_alias TEXT NOT NULL,
    requests INTEGER NOT NULL, succeeded INTEGER NOT NULL, failed INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
    latency_s_total REAL NOT NULL, PRIMARY KEY (day, provider, model, key_alias));
CREATE TRIGGER IF NOT EXISTS reservation_counted AFTER INSERT ON reservations BEGIN
    UPDATE window_totals SET requests = requests + 1, tokens = tokens + NEW.tokens
    WHERE scope = NEW.scope AND NEW.ts < hi AND (NEW.ts > lo OR (rolling = 0 AND NEW.ts = lo));
END;
CREATE TRIGGER IF NOT EXISTS reservation_settled AFTER UPDATE OF tokens ON reservations BEGIN
    UPDATE window_totals SET tokens = tokens + NEW.tokens - OLD.tokens
    WHERE scope = OLD.scope AND OLD.ts < hi AND (OLD.ts > lo OR (rolling = 0 AND OLD.ts = lo));
END;
CREATE TRIGGER IF NOT EXISTS reservation_released AFTER DELETE ON reservations BEGIN
    UPDATE window_totals SET requests = requests - 1, tokens = tokens - OLD.tokens
    WHERE scope = OLD.scope AND OLD.ts < hi AND (OLD.ts > lo OR (rolling = 0 AND OLD.ts = lo));
END;
CREATE TRIGGER IF NOT EXISTS ledger_totalled AFTER INSERT ON ledger BEGIN
    INSERT INTO daily_totals VALUES (
        NEW.day, NEW.provider, 1, NEW.outcome = 'ok', NEW.outcome <> 'ok', NEW.prompt_tokens,
        NEW.completion_tokens, NEW.cost_usd, NEW.latency_s)
    ON CONFLICT (day, provider) DO UPDATE SET requests = requests + 1,
        succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens,
        cost_usd = cost_usd + excluded.cost_usd,
        latency_s_total = latency_s_total + excluded.latency_s_total;
END;
CREATE TRIGGER IF NOT EXISTS ledger_rolled_up AFTER INSERT ON ledger BEGIN
    INSERT INTO rollups VALUES (
        NEW.day, NEW.provider, NEW.model, NEW.key_alias, 1, NEW.outcome = 'ok',
        NEW.outcome <> 'ok', NEW.prompt_tokens, NEW.completion_tokens, NEW.cost_usd,
        NEW.latency_s)
    ON CONFLICT (day, provider, model, key_alias) DO UPDATE SET requests = requests + 1,
        succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens,
        cost_usd = cost_usd + excluded.cost_usd,
        latency_s_total = latency_s_total + excluded.latency_s_total;
END;
"""

#: Made after ``_COLUMNS`` are in place (the index names a column an older file lacks). A
#: partial index: entries without an id (an older llmswitch sharing the file) are never equal.
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS ledger_by_entry_id ON ledger (entry_id)
    WHERE entry_id IS NOT NULL;
"""

#: A file from before the roll-ups: its ledger rows are rolled up once, in ``create``'s lock.
_BACKFILL_ROLLUPS = """
INSERT INTO rollups SELECT day, provider, model, key_alias, count(*), total(outcome = 'ok'),
    total(outcome <> 'ok'), total(prompt_tokens), total(completion_tokens), total(cost_usd),
    total(latency_s) FROM ledger GROUP BY day, provider, model, key_alias
"""

#: Columns added after a table was first released: (table, column, declaration). ``create``
#: adds each one a file lacks, so a state file written by an older llmswitch keeps its data.
_COLUMNS = (
    ("health", "opened_at", "REAL NOT NULL DEFAULT 0"),
    ("health", "opened_by", "TEXT"),
    ("ledger", "entry_id", "TEXT"),
    ("ledger", "request_id", "TEXT NOT NULL DEFAULT ''"),  # rows of older files: no id
    ("reservations", "hold", "INTEGER"),  # the row of the budget claim a reservation holds
)

#: Tables ``reset`` empties (the schema version stays).
DATA_TABLES = (
    "reservations",
    "window_totals",
    "blocks",
    "health",
    "learned_limits",
    "ledger",
    "daily_totals",
    "rollups",
)

_HEALTH_FIELDS = (
    "open_until",
    "consecutive_failures",
    "last_error_kind",
    "last_error_message",
    "last_error_at",
    "auth_failed_fingerprint",
    "probe_until",
    "opened_at",
    "opened_by",
)
_LEDGER_FIELDS = (
    "ts",
    "day",
    "provider",
    "key_alias",
    "model",
    "outcome",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_s",
    "free",
    "entry_id",
    "request_id",
)
_TOTAL_FIELDS = (
    "day",
    "provider",
    "requests",
    "succeeded",
    "failed",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_s_total",
)


def create(db: sqlite3.Connection, *, busy_seconds: float = 10.0) -> None:
    """Set the connection up (WAL, NORMAL sync) and create or check the schema."""
    _wal(db, busy_seconds)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("BEGIN IMMEDIATE")
    try:
        new_rollups = (
            db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollups'"
            ).fetchone()
            is None
        )
        for statement in _statements(_TABLES):
            db.execute(statement)
        _add_missing_columns(db)
        for statement in _statements(_INDEXES):
            db.execute(statement)
        if new_rollups:
            db.execute(_BACKFILL_ROLLUPS)
        row = db.execute("SELECT max(version) FROM schema_version").fetchone()
        if row[0] is None:
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif row[0] > SCHEMA_VERSION:
            raise StorageError(
                f"the state file has schema version {row[0]}, newer than this llmswitch "
                f"understands ({SCHEMA_VERSION}); upgrade llmswitch or use another state file",
                backend="sqlite",
            )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _wal(db: sqlite3.Connection, busy_seconds: float) -> None:
    """Switch a new file to WAL. Two processes opening the same new file can meet here while
    the other holds the schema's write lock: SQLite then answers "database is locked" at once
    instead of waiting (the busy handler would deadlock), so wait and try again ourselves."""
    deadline = time.monotonic() + busy_seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a file from an older llmswitch up to date (inside ``create``'s write lock, so two
    processes opening it at once cannot both add a column)."""
    for table, column, declaration in _COLUMNS:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _statements(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf)
            buf = ""
    return out


def read_health(db: sqlite3.Connection, scope: str) -> HealthRecord | None:
    row = db.execute(
        f"SELECT {', '.join(_HEALTH_FIELDS)} FROM health WHERE scope = ?",
        (scope,),
    ).fetchone()
    return HealthRecord(*row) if row is not None else None


def read_healths(db: sqlite3.Connection, scopes: Sequence[str]) -> dict[str, HealthRecord]:
    """The records of ``scopes`` that exist, in one statement (admission reads three)."""
    marks = ", ".join("?" for _ in scopes)
    rows = db.execute(
        f"SELECT scope, {', '.join(_HEALTH_FIELDS)} FROM health WHERE scope IN ({marks})",
        tuple(scopes),
    )
    return {row[0]: HealthRecord(*row[1:]) for row in rows}


def write_health(db: sqlite3.Connection, scope: str, rec: HealthRecord) -> None:
    values = tuple(getattr(rec, f) for f in _HEALTH_FIELDS)
    marks = ", ".join("?" for _ in range(len(_HEALTH_FIELDS) + 1))
    db.execute(
        f"INSERT OR REPLACE INTO health (scope, {', '.join(_HEALTH_FIELDS)}) VALUES ({marks})",
        (scope, *values),
    )


def insert_ledger(db: sqlite3.Connection, e: LedgerEntry) -> None:
    """One statement: the triggers add it to its day's totals and roll-up atomically; an entry
    whose id is in the ledger already is not inserted, so nothing is added twice."""
    values = tuple(
        (e.entry_id or None) if f == "entry_id" else getattr(e, f) for f in _LEDGER_FIELDS
    )
    marks = ", ".join("?" for _ in _LEDGER_FIELDS)
    db.execute(
        f"INSERT INTO ledger ({', '.join(_LEDGER_FIELDS)}) VALUES ({marks}) "
        "ON CONFLICT (entry_id) WHERE entry_id IS NOT NULL DO NOTHING",
        values,
    )


def prune_ledger(db: sqlite3.Connection, before: float) -> int:
    """Delete the raw rows older than ``before`` (totals and roll-ups stay); how many went.

    Rows are appended in time order, so the cut is found walking up from the oldest id, which
    touches only the rows that go (a late replay of an old entry goes with a later prune).
    """
    row = db.execute("SELECT id FROM ledger WHERE ts >= ? ORDER BY id LIMIT 1", (before,))
    cut = row.fetchone()
    if cut is None:
        return db.execute("DELETE FROM ledger").rowcount
    return db.execute("DELETE FROM ledger WHERE id < ?", (cut[0],)).rowcount


def read_rollups(
    db: sqlite3.Connection, since_day: str | None, until_day: str | None
) -> list[RollupRow]:
    rows = db.execute(
        f"SELECT day, provider, model, key_alias, {', '.join(_TOTAL_FIELDS[2:])} FROM rollups "
        "WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2) "
        "ORDER BY day, provider, model, key_alias",
        (since_day, until_day),
    ).fetchall()
    return [RollupRow(*row) for row in rows]


def read_totals(
    db: sqlite3.Connection, since_day: str | None, until_day: str | None
) -> list[UsageRow]:
    rows = db.execute(
        f"SELECT {', '.join(_TOTAL_FIELDS)} FROM daily_totals "
        "WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2) ORDER BY day, provider",
        (since_day, until_day),
    ).fetchall()
    return [UsageRow(*row) for row in rows]


def read_ledger(db: sqlite3.Connection, limit: int) -> list[LedgerEntry]:
    rows = db.execute(
        f"SELECT {', '.join(_LEDGER_FIELDS)} FROM ledger ORDER BY id DESC LIMIT ?",
        (max(0, limit),),
    ).fetchall()
    out = []
    for row in rows:
        fields = dict(zip(_LEDGER_FIELDS, row, strict=True))
        fields["free"] = bool(fields["free"])
        fields["entry_id"] = fields["entry_id"] or ""
        out.append(LedgerEntry(**fields))
    return out


def create_private(path: Path) -> None:
    """Create ``path``'s missing folders 0700 and the file itself 0600, whatever the umask.

    The file holds who called which provider, with which key alias, and the last error texts;
    other users of the machine have no business reading it. SQLite creates its ``-wal`` and
    ``-shm`` files with the database file's mode, so they follow. Files and folders that exist
    already are left as they are (an operator may share one with a group on purpose).
    """
    missing = [p for p in reversed(path.parents) if p != Path() and not p.exists()]
    for folder in missing:
        with contextlib.suppress(FileExistsError):  # another process made it first
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
