"""Server-side rate windows, the way providers enforce them.

Minute windows slide: a request (and its tokens) counts for exactly 60 s after it was served.
Day windows either slide over 24 h (``"rolling"``: Groq, Together, OpenAI, whose budgets
replenish continuously) or end at a calendar midnight in a zone (Gemini: America/Los_Angeles,
DST-aware; OpenRouter: UTC). A limit of 0 disables that window.

``Pool.admit`` is the one decision: given ``now`` and the tokens a request will consume, it
either records the request and returns a ``Snapshot`` (for the rate-limit headers) or returns the
``Violation`` with the longest wait, without recording anything. Time is always passed in, so a
FakeClock moves a day in a microsecond.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MINUTE = 60.0
DAY = 86_400.0
WINDOWS = ("rpm", "rpd", "tpm", "tpd")


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps per window; 0 means "no such window"."""

    rpm: int = 0
    rpd: int = 0
    tpm: int = 0
    tpd: int = 0

    def merged(self, **changes: int | None) -> Limits:
        """A copy with the non-None ``changes`` applied (None leaves a value as it is)."""
        return replace(self, **{k: int(v) for k, v in changes.items() if v is not None})

    def get(self, window: str) -> int:
        return int(getattr(self, window))


@dataclass(frozen=True, slots=True)
class Violation:
    """Why a request was refused: which window, its numbers, and when to come back."""

    window: str  # rpm | rpd | tpm | tpd
    limit: int
    used: int
    requested: int
    retry_after: float  # seconds from now until this request would fit
    reset_at: float  # epoch seconds when the window is next (partly) free

    @property
    def too_large(self) -> bool:
        """A single request above a token limit can never fit (Groq's 413)."""
        return self.window in ("tpm", "tpd") and self.requested > self.limit


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Usage of every window right after a request was admitted, for the limit headers."""

    limits: Limits
    used: dict[str, int]
    next_minute_slot: float  # seconds until the oldest request leaves the minute window

    def remaining(self, window: str) -> int:
        return max(0, self.limits.get(window) - self.used[window])

    def refill(self, window: str) -> float:
        """Seconds until the window is back to full if it refills at a constant rate.

        This is what Groq's and OpenAI's ``x-ratelimit-reset-*`` headers report: 30 of 14400
        requests per day used -> ``3m0s``; 1 of 60 per minute -> ``1s``.
        """
        limit = self.limits.get(window)
        span = MINUTE if window in ("rpm", "tpm") else DAY
        return 0.0 if limit <= 0 else min(span, self.used[window] * span / limit)


class RollingLog:
    """Requests of the last ``span`` seconds with running totals."""

    def __init__(self, span: float) -> None:
        self.span = span
        self.events: deque[tuple[float, int]] = deque()
        self.count = 0
        self.tokens = 0

    def expire(self, now: float) -> None:
        cutoff = now - self.span
        while self.events and self.events[0][0] <= cutoff:
            _, tokens = self.events.popleft()
            self.count -= 1
            self.tokens -= tokens

    def add(self, now: float, tokens: int) -> None:
        self.events.append((now, tokens))
        self.count += 1
        self.tokens += tokens

    def wait_for_slot(self, limit: int, now: float) -> float:
        """Seconds until fewer than ``limit`` requests remain in the window."""
        oldest = self.events[self.count - limit][0]
        return max(0.0, oldest + self.span - now)

    def wait_for_tokens(self, limit: int, requested: int, now: float) -> float:
        """Seconds until ``requested`` more tokens fit under ``limit``."""
        excess = self.tokens + requested - limit
        for when, tokens in self.events:
            excess -= tokens
            if excess <= 0:
                return max(0.0, when + self.span - now)
        return self.span


class CalendarDay:
    """Totals since the last midnight in ``zone``; reset when the date changes."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.day: object = None
        self.count = 0
        self.tokens = 0

    def expire(self, now: float) -> None:
        today = datetime.fromtimestamp(now, self.zone).date()
        if today != self.day:
            self.day, self.count, self.tokens = today, 0, 0

    def add(self, now: float, tokens: int) -> None:
        self.count += 1
        self.tokens += tokens

    def reset_at(self, now: float) -> float:
        return next_midnight(now, self.zone)


def next_midnight(now: float, zone: ZoneInfo) -> float:
    """Epoch seconds of the next 00:00 in ``zone`` (23, 24 or 25 hours away around DST)."""
    local = datetime.fromtimestamp(now, zone).date() + timedelta(days=1)
    return datetime(local.year, local.month, local.day, tzinfo=zone).timestamp()


class Pool:
    """The windows of one (provider, key, model pool)."""

    def __init__(self, day_rule: str) -> None:
        self.minute = RollingLog(MINUTE)
        self.day: RollingLog | CalendarDay = (
            RollingLog(DAY) if day_rule == "rolling" else CalendarDay(day_rule)
        )

    def admit(self, limits: Limits, now: float, tokens: int) -> Snapshot | Violation:
        """Record the request if every window has room; else say which window refuses."""
        self.minute.expire(now)
        self.day.expire(now)
        worst: Violation | None = None
        for window in WINDOWS:
            found = self._check(window, limits.get(window), now, tokens)
            if found is not None and (worst is None or found.retry_after > worst.retry_after):
                worst = found
        if worst is not None:
            return worst
        self.minute.add(now, tokens)
        self.day.add(now, tokens)
        return self.snapshot(limits, now)

    def snapshot(self, limits: Limits, now: float) -> Snapshot:
        used = {
            "rpm": self.minute.count,
            "tpm": self.minute.tokens,
            "rpd": self.day.count,
            "tpd": self.day.tokens,
        }
        first = self.minute.events[0][0] + MINUTE - now if self.minute.events else 0.0
        return Snapshot(limits, used, max(0.0, first))

    def _check(self, window: str, limit: int, now: float, tokens: int) -> Violation | None:
        if limit <= 0:
            return None
        log = self.minute if window in ("rpm", "tpm") else self.day
        if window in ("rpm", "rpd"):
            used, requested = log.count, 1
            if used + 1 <= limit:
                return None
        else:
            used, requested = log.tokens, tokens
            if used + tokens <= limit:
                return None
        wait = self._wait(log, window, limit, requested, now)
        return Violation(window, limit, used, requested, wait, now + wait)

    @staticmethod
    def _wait(
        log: RollingLog | CalendarDay, window: str, limit: int, requested: int, now: float
    ) -> float:
        if isinstance(log, CalendarDay):
            return log.reset_at(now) - now
        if requested > limit:
            return log.span
        if window in ("rpm", "rpd"):
            return log.wait_for_slot(limit, now)
        return log.wait_for_tokens(limit, requested, now)


def go_duration(seconds: float) -> str:
    """Format like Go's ``time.Duration``: ``940ms``, ``7.66s``, ``2m59.56s``, ``1h2m3s``.

    Rounded to the hundredth of a second, as Groq's and OpenAI's headers are.
    """
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    centis = round(seconds * 100)
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    secs = f"{rest / 100:.2f}".rstrip("0").rstrip(".")
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{secs}s"


def ceil_seconds(seconds: float) -> int:
    """Whole seconds for a ``Retry-After`` header: never 0 while a wait remains."""
    return max(1, math.ceil(seconds - 1e-9))
