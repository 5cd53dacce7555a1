"""``GET /api/dashboard/charts``: requests, tokens, cost and latency per provider, bucketed.

Why from the ledger: every attempt the store records already carries its time, provider, tokens,
cost and latency, so the charts are a view of the accounting the store keeps, never a second
one (an in-process counter would start at zero on each restart and disagree with the status
across processes). Two spans, on the manager's clock (the same clock as the status, so a
simulated run charts its simulated time):

- ``hour``: the last 60 minutes in one-minute buckets, ending with the current minute;
- ``today``: the ledger's UTC day (``money_day`` of the status) in 24 hourly buckets.

Per provider and bucket: ``requests`` (attempts sent), ``failed``, ``tokens`` (prompt plus
completion), ``cost_usd`` and ``latency_ms`` (the mean over answered attempts; ``None`` where
there was none). The raw entries are read newest first in growing pages, stopping once they are
older than both spans or at ``MAX_ENTRIES``; ``complete`` says whether the entries read account
for every request of today's roll-ups (``ledger_retention_days`` under a day, or more than
``MAX_ENTRIES`` attempts today, cut the chart, never the totals the cards and savings show).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from llmswitch import _ledger as ledger
from llmswitch._errors import StorageError
from llmswitch._ledger import LedgerEntry
from llmswitch.server import shapes
from llmswitch.server.status_api import redacted_json

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager

MAX_ENTRIES = 50_000
FIRST_PAGE = 1_000
METRICS = ("requests", "failed", "tokens", "cost_usd", "latency_ms")
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Span:
    """``buckets`` buckets of ``bucket_s`` seconds from ``start`` (epoch seconds)."""

    name: str
    start: float
    bucket_s: float
    buckets: int

    @property
    def end(self) -> float:
        return self.start + self.bucket_s * self.buckets

    def index(self, ts: float) -> int | None:
        """The bucket of ``ts``, or None outside the span."""
        if ts < self.start or ts >= self.end:
            return None
        return int((ts - self.start) // self.bucket_s)


def spans(now: float) -> tuple[Span, Span]:
    """The last hour (minute buckets, the current minute last) and the UTC day of ``now``."""
    minute = int(now // 60) * 60
    hour = Span("hour", float(minute - 59 * 60), 60.0, 60)
    day = Span("today", float(int(now // DAY_S) * DAY_S), 3600.0, 24)
    return hour, day


def bucket(entries: list[LedgerEntry], span: Span) -> dict[str, dict[str, list[Any]]]:
    """Per provider, each metric's list over the span's buckets (oldest first)."""
    sums: dict[str, dict[str, list[float]]] = {}
    answered: dict[str, list[int]] = {}
    latency: dict[str, list[float]] = {}
    for e in entries:
        i = span.index(e.ts)
        if i is None:
            continue
        if e.provider not in sums:
            sums[e.provider] = {m: [0] * span.buckets for m in ("requests", "failed", "tokens")}
            sums[e.provider]["cost_usd"] = [0.0] * span.buckets
            answered[e.provider] = [0] * span.buckets
            latency[e.provider] = [0.0] * span.buckets
        s = sums[e.provider]
        s["requests"][i] += 1
        s["tokens"][i] += e.prompt_tokens + e.completion_tokens
        s["cost_usd"][i] += e.cost_usd
        if e.outcome == "ok":
            answered[e.provider][i] += 1
            latency[e.provider][i] += e.latency_s
        else:
            s["failed"][i] += 1
    out: dict[str, dict[str, list[Any]]] = {}
    for name in sorted(sums):
        s = sums[name]
        n, total = answered[name], latency[name]
        out[name] = {
            "requests": s["requests"],
            "failed": s["failed"],
            "tokens": s["tokens"],
            "cost_usd": [round(c, 10) for c in s["cost_usd"]],
            "latency_ms": [
                round(total[i] / n[i] * 1000, 1) if n[i] else None for i in range(len(n))
            ],
        }
    return out


def recent_entries(manager: LLMProviderManager, since: float) -> list[LedgerEntry]:
    """The kept entries from ``since`` on, newest first: pages grow fourfold up to
    ``MAX_ENTRIES`` so a quiet gateway reads a thousand rows, a busy one what it needs."""
    limit = FIRST_PAGE
    while True:
        entries = manager.store.ledger_entries(limit=limit)
        if len(entries) < limit or entries[-1].ts < since or limit >= MAX_ENTRIES:
            return [e for e in entries if e.ts >= since]
        limit = min(limit * 4, MAX_ENTRIES)


def chart_data(manager: LLMProviderManager) -> dict[str, Any]:
    """The body of ``/api/dashboard/charts`` (see the module's docstring)."""
    now = manager.clock()
    hour, today = spans(now)
    day = ledger.utc_day(now)
    entries = recent_entries(manager, min(hour.start, today.start))
    rows = manager.store.usage_rows(since_day=day, until_day=day)
    kept_today = sum(1 for e in entries if e.day == day)
    return {
        "time": now,
        "day": day,
        "money_day": "utc",
        "complete": kept_today >= sum(r.requests for r in rows),
        "entries_read": len(entries),
        "spans": {
            s.name: {
                "start": s.start,
                "bucket_s": s.bucket_s,
                "buckets": s.buckets,
                "providers": bucket(entries, s),
            }
            for s in (hour, today)
        },
    }


class ChartRoutes:
    """``/api/dashboard/charts``: read on demand, every few seconds by the page."""

    def __init__(self, manager: LLMProviderManager, redact: shapes.Redact) -> None:
        self._manager = manager
        self._redact = redact

    async def charts(self, request: Request) -> Response:
        try:
            body = chart_data(self._manager)
        except StorageError as exc:  # the ledger lives in the store: say so, as a 503
            status, error, _ = shapes.error_reply(exc, self._redact)
            return redacted_json(error, self._redact, status=status)
        return redacted_json(body, self._redact)
