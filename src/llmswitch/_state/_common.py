"""Decisions every backend shares, so memory, SQLite and Redis cannot drift apart.

Pure functions over values: what a reservation costs in a window, what a refusal says, how a
health record changes on a failure or a success, how a ledger entry adds to its day's totals.
The backends only differ in how they make these atomic (a lock, a transaction, a Lua script).
"""

from __future__ import annotations

from collections.abc import Iterable

from llmswitch._quota import DAY, MICRO, Window, day_start, next_day_start
from llmswitch._state.base import Admission, Block

#: Longest calendar day (a DST fall-back day has 25 hours); entries are kept at least this long
#: plus a margin, so a calendar day window always sees every entry of its day.
LONGEST_DAY = DAY + 3600.0
RETAIN_MARGIN = 3600.0


def cost(window: Window, tokens: int) -> int:
    """What one reservation takes from ``window``: one request, or its tokens (at least 1).

    At least 1 so that a full token window refuses even a request estimated at zero tokens.
    """
    return 1 if window.unit == "requests" else max(1, tokens)


def used(window: Window, requests: int, tokens: int) -> int:
    return requests if window.unit == "requests" else tokens


def used_after(window: Window, requests: int, tokens: int, amount: int) -> int:
    """What ``window`` holds once a reservation of ``amount`` tokens joins ``requests`` and
    ``tokens`` (``Admission.used``)."""
    return requests + 1 if window.unit == "requests" else tokens + amount


def retain_seconds(windows: Iterable[Window]) -> float:
    """How long entries must be kept so every one of ``windows`` still sees them."""
    longest = max((w.period if w.rolling else LONGEST_DAY for w in windows), default=0.0)
    return longest + RETAIN_MARGIN


def refusal(window: Window, retry_at: float | None, *, tokens: int) -> Admission:
    """A refusal naming the window; ``retry_at`` None means the request can never fit it."""
    if window.unit == "micro_usd":
        return over_budget(window, retry_at, micros=tokens)
    if retry_at is None:
        reason = f"{window.name}: {tokens} tokens exceed the limit of {window.limit}"
    else:
        reason = f"{window.name} limit of {window.limit} reached"
    return Admission(ok=False, window=window.name, retry_at=retry_at, reason=reason)


def over_budget(window: Window, retry_at: float | None, *, micros: int) -> Admission:
    """The provider's daily budget cannot hold this call's worst case (``micros``)."""
    limit = window.limit / MICRO
    if retry_at is None:
        reason = f"daily budget: a worst case of ${micros / MICRO:.6f} exceeds the ${limit:g}"
    else:
        reason = f"daily budget of ${limit:g} reached"
    return Admission(ok=False, window=window.name, retry_at=retry_at, reason=reason)


def blocked(block: Block) -> Admission:
    """While a block is active nothing else matters: come back when it ends."""
    return Admission(ok=False, window="blocked", retry_at=block.until, reason=block.reason)


def later(a: tuple[Window, float | None] | None, b: tuple[Window, float | None]) -> bool:
    """Whether refusal ``b`` binds longer than ``a`` (None, i.e. never, binds longest)."""
    if a is None:
        return True
    if a[1] is None:
        return False
    return b[1] is None or b[1] > a[1]


class CalendarPeriods:
    """Caches the current calendar day per zone: a zone conversion costs microseconds, and
    reserve runs on every call while the day changes once a day. Not thread-safe on its own;
    each backend calls it under its lock (a stale read only recomputes)."""

    __slots__ = ("bounds",)

    def __init__(self) -> None:
        self.bounds: dict[str, tuple[float, float]] = {}

    def period(self, reset: str, now: float) -> tuple[float, float]:
        """``(start, end)`` of the calendar day of zone ``reset`` that contains ``now``."""
        cached = self.bounds.get(reset)
        if cached is not None and cached[0] <= now < cached[1]:
            return cached
        fresh = (day_start(now, reset), next_day_start(now, reset))
        self.bounds[reset] = fresh
        return fresh
