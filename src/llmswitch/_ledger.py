"""Usage and cost accounting: every attempt, priced, totalled per provider and day.

Costs are computed from the catalog's USD-per-million-token prices. A free-tier call costs
nothing, but we still price it at the paid fallback's rate to report what the free tiers saved.
Paid providers are held to ``daily_budget_usd``: a call whose worst-case cost would cross the
budget is not admitted.

Retention: a store keeps every entry (the raw rows) for ``ledger_retention_days`` and, from the
first entry on, a daily roll-up per provider, model and key alias (``RollupRow``) that is kept
for good. Both are written in the same step as the entry, so the totals never depend on raw rows
still being there: pruning them loses detail, never a count or a cent. ``usage_rows`` (per
provider and day) and ``rollup_rows`` (per provider, model and key and day) read the roll-ups.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from llmswitch._types import Usage


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One attempt, as accounted: never a key, only its alias.

    ``entry_id`` makes writing it idempotent: a store applies an entry (and the settlement that
    comes with it) once, however often the write is retried or replayed, e.g. a write that timed
    out during a Redis stall, that Redis runs later, and that the outage guard writes again when
    the store is back. ``entry()`` gives every entry a fresh one (``entry_id``); an entry built
    without one (``""``) is not deduplicated.
    """

    ts: float
    day: str  # "YYYY-MM-DD" (UTC) the entry is totalled under
    provider: str
    key_alias: str
    model: str
    outcome: str  # "ok" or a FailureKind value
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    free: bool = True
    entry_id: str = ""
    request_id: str = ""  # the call this attempt belonged to (the gateway's x-request-id)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Totals for one provider on one day."""

    day: str
    provider: str
    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s_total: float = 0.0


@dataclass(frozen=True, slots=True)
class RollupRow:
    """Totals for one provider, model and key alias on one day: what outlives the raw rows."""

    day: str
    provider: str
    model: str
    key_alias: str
    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s_total: float = 0.0


#: Raw ledger rows are kept this many days by default (``ledger_retention_days``): a week of
#: per-call detail answers "what happened on each call this week"; every usage period is read
#: from the roll-ups, and at one call a second a week of rows is ~600,000 (see bench/README.md).
DEFAULT_RETENTION_DAYS = 7.0


def utc_day(ts: float) -> str:
    """``YYYY-MM-DD`` of ``ts`` in UTC (every UTC day is 86,400 epoch seconds)."""
    return _day_name(int(ts // 86_400))


@lru_cache(maxsize=8)
def _day_name(day_number: int) -> str:
    # strftime costs ~10 us on a slow core and runs for every ledger entry (bench/overhead.py)
    return datetime.fromtimestamp(day_number * 86_400, UTC).strftime("%Y-%m-%d")


def cost_usd(usage: Usage, price: tuple[float, float]) -> float:
    """USD for ``usage`` at ``price`` = (input, output) USD per 1M tokens."""
    return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1_000_000


@dataclass(frozen=True, slots=True)
class ProviderTotals:
    provider: str
    requests: int
    succeeded: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s_mean: float


PERIODS = ("today", "yesterday", "week", "month", "all")


def period_days(period: str, now: float) -> tuple[str | None, str | None]:
    """The inclusive UTC day range of a named period (``today``, ``week`` = last 7 days, ...)."""
    today = datetime.fromtimestamp(now, UTC).date()
    spans = {"today": 0, "week": 6, "month": 29}
    if period in spans:
        return (today - timedelta(days=spans[period])).isoformat(), today.isoformat()
    if period == "yesterday":
        day = (today - timedelta(days=1)).isoformat()
        return day, day
    if period == "all":
        return None, None
    raise ValueError(f"unknown period {period!r}; valid periods: {', '.join(PERIODS)}")


def totals_by_provider(rows: list[UsageRow]) -> dict[str, ProviderTotals]:
    acc: dict[str, list[float]] = {}
    for r in rows:
        a = acc.setdefault(r.provider, [0, 0, 0, 0, 0, 0.0, 0.0])
        for i, v in enumerate(
            (
                r.requests,
                r.succeeded,
                r.failed,
                r.prompt_tokens,
                r.completion_tokens,
                r.cost_usd,
                r.latency_s_total,
            )
        ):
            a[i] += v
    return {
        name: ProviderTotals(
            provider=name,
            requests=int(a[0]),
            succeeded=int(a[1]),
            failed=int(a[2]),
            prompt_tokens=int(a[3]),
            completion_tokens=int(a[4]),
            cost_usd=round(a[5], 8),
            latency_s_mean=(a[6] / a[0]) if a[0] else 0.0,
        )
        for name, a in acc.items()
    }


class UsageSource(Protocol):
    """What the ledger reads from a store: the daily totals (every backend provides it)."""

    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]: ...


def spent_today(store: UsageSource, provider: str, now: float) -> float:
    day = utc_day(now)
    return sum(
        r.cost_usd for r in store.usage_rows(since_day=day, until_day=day) if r.provider == provider
    )


def entry(
    *,
    ts: float,
    provider: str,
    key_alias: str,
    model: str,
    outcome: str,
    usage: Usage,
    cost: float,
    latency_s: float,
    free: bool,
    request_id: str = "",
) -> LedgerEntry:
    return LedgerEntry(
        ts=ts,
        day=utc_day(ts),
        provider=provider,
        key_alias=key_alias,
        model=model,
        outcome=outcome,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=cost,
        latency_s=latency_s,
        free=free,
        entry_id=entry_id(ts),
        request_id=request_id,
    )


def entry_id(ts: float) -> str:
    """32 hex digits: the entry's microsecond, then 72 random bits.

    Time first, so ids arrive in about ascending order and SQLite's unique index on them grows
    at its right edge (a random id would land on a random page of an index of ~600,000 ids and
    miss the page cache on every call); the random part keeps two processes' ids apart.
    """
    return f"{max(0, int(ts * 1_000_000)):014x}{os.urandom(9).hex()}"


# -- daily totals (the stores apply these) ---------------------------------------------------------


def add_entry(row: UsageRow | None, entry: LedgerEntry) -> UsageRow:
    """``row`` (the day's totals for the entry's provider) with ``entry`` added."""
    row = row or UsageRow(day=entry.day, provider=entry.provider)
    ok = entry.outcome == "ok"
    return UsageRow(  # built whole, not ``replace``d: this runs after every call
        row.day,
        row.provider,
        row.requests + 1,
        row.succeeded + ok,
        row.failed + (not ok),
        row.prompt_tokens + entry.prompt_tokens,
        row.completion_tokens + entry.completion_tokens,
        row.cost_usd + entry.cost_usd,
        row.latency_s_total + entry.latency_s,
    )


def add_to_rollup(row: RollupRow | None, entry: LedgerEntry) -> RollupRow:
    """``row`` (the day's totals for the entry's provider, model and key) with ``entry`` added."""
    row = row or RollupRow(
        day=entry.day, provider=entry.provider, model=entry.model, key_alias=entry.key_alias
    )
    ok = entry.outcome == "ok"
    return RollupRow(
        row.day,
        row.provider,
        row.model,
        row.key_alias,
        row.requests + 1,
        row.succeeded + ok,
        row.failed + (not ok),
        row.prompt_tokens + entry.prompt_tokens,
        row.completion_tokens + entry.completion_tokens,
        row.cost_usd + entry.cost_usd,
        row.latency_s_total + entry.latency_s,
    )


def rollup_totals(rows: list[RollupRow]) -> list[dict[str, float | int | str]]:
    """The roll-ups of a period summed per provider, model and key alias (JSON-able), for the
    usage report's breakdown; ordered by provider, model, key."""
    acc: dict[tuple[str, str, str], RollupRow] = {}
    for r in rows:
        who = (r.provider, r.model, r.key_alias)
        a = acc.get(who) or RollupRow(
            day="", provider=r.provider, model=r.model, key_alias=r.key_alias
        )
        acc[who] = replace(
            a,
            requests=a.requests + r.requests,
            succeeded=a.succeeded + r.succeeded,
            failed=a.failed + r.failed,
            prompt_tokens=a.prompt_tokens + r.prompt_tokens,
            completion_tokens=a.completion_tokens + r.completion_tokens,
            cost_usd=a.cost_usd + r.cost_usd,
            latency_s_total=a.latency_s_total + r.latency_s_total,
        )
    return [
        {
            "provider": a.provider,
            "model": a.model,
            "key_alias": a.key_alias,
            "requests": a.requests,
            "succeeded": a.succeeded,
            "failed": a.failed,
            "prompt_tokens": a.prompt_tokens,
            "completion_tokens": a.completion_tokens,
            "cost_usd": round(a.cost_usd, 8),
            "latency_s_mean": a.latency_s_total / a.requests if a.requests else 0.0,
        }
        for _, a in sorted(acc.items())
    ]


def rollup_key(entry: LedgerEntry | RollupRow) -> tuple[str, str, str, str]:
    return (entry.day, entry.provider, entry.model, entry.key_alias)


def in_days(day: str, since_day: str | None, until_day: str | None) -> bool:
    """ISO days compare as strings; both ends inclusive."""
    return (since_day is None or day >= since_day) and (until_day is None or day <= until_day)
