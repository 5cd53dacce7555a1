"""Quota decisions: windows, their reset rules, soft limits and what the provider told us.

Pure functions over a clock reading; storage lives behind ``state.base.Store``, which applies
``Window`` objects atomically (reserve, then send). Four windows per provider key: requests and
tokens, per minute and per day. Minute windows always slide, as every provider's do. Day windows
either slide (``reset="rolling"``) or end at a calendar midnight: ``"utc"`` (OpenRouter) or an IANA
zone (``"America/Los_Angeles"`` for Gemini, DST-aware).

Hand-written because admission is our core: peers count per calendar minute and send a burst
across the boundary straight into 429s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from llmswitch._errors import ConfigError
from llmswitch._types import WindowUsage as WindowUsage  # a value type, re-exported here

Unit = Literal["requests", "tokens", "micro_usd"]
MINUTE = 60.0
DAY = 86_400.0

WINDOW_NAMES: dict[str, tuple[Unit, float]] = {
    "rpm": ("requests", MINUTE),
    "rpd": ("requests", DAY),
    "tpm": ("tokens", MINUTE),
    "tpd": ("tokens", DAY),
}


@dataclass(frozen=True, slots=True)
class Window:
    """One limit of one provider key, e.g. 30 requests per sliding minute.

    ``reset`` is ``"rolling"`` (a sliding window of ``period`` seconds), ``"utc"`` or an IANA zone
    name (a calendar day that ends at that zone's midnight; only for day windows).
    """

    name: str
    unit: Unit
    period: float
    limit: int
    reset: str = "rolling"

    @property
    def rolling(self) -> bool:
        return self.reset == "rolling"

    def period_start(self, now: float) -> float:
        """Start of the counting period containing ``now``: ``now - period`` when rolling."""
        if self.rolling:
            return now - self.period
        return day_start(now, self.reset)

    def calendar_reset(self, now: float) -> float:
        """For calendar windows, when the current period ends. Rolling windows raise."""
        if self.rolling:
            raise ValueError(f"window {self.name} is rolling; its reset depends on its entries")
        return next_day_start(now, self.reset)

    def with_limit(self, limit: int) -> Window:
        return replace(self, limit=limit)


def make_window(name: str, limit: int, *, reset: str = "rolling", guard: float = 0.0) -> Window:
    """The window ``name`` (``rpm``, ``tpd``...) with ``limit``; a rolling window holds each
    request ``guard`` seconds longer than its period.

    Why a guard: we count a request from the moment we admit it, the provider from the moment
    it arrives, a few milliseconds (or a TLS handshake) later. Without a guard our sliding minute
    frees a slot just before the provider's does, and a caller waiting for that slot is sent
    straight into a 429. Calendar windows need none: a late arrival lands in the next day.
    """
    unit, period = WINDOW_NAMES[name]
    if period == MINUTE:
        reset = "rolling"
    if reset == "rolling":
        period += guard
    return Window(name=name, unit=unit, period=period, limit=int(limit), reset=reset)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo("UTC" if name.lower() == "utc" else name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"day_resets = {name!r} is not a known time zone; use 'utc', 'rolling' or an IANA "
            "zone such as 'America/Los_Angeles'"
        ) from exc


def day_start(now: float, zone_name: str) -> float:
    """The epoch time of the last midnight in ``zone_name`` at or before ``now``."""
    tz = zone(zone_name)
    local = datetime.fromtimestamp(now, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


def next_day_start(now: float, zone_name: str) -> float:
    """The epoch time of the next midnight in ``zone_name`` after ``now`` (DST-aware)."""
    tz = zone(zone_name)
    local = datetime.fromtimestamp(now, tz)
    tomorrow = (local + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz).timestamp()


def admission_windows(windows: Iterable[Window], daily_soft_limit: float) -> tuple[Window, ...]:
    """The windows as admission applies them: day windows capped at the soft limit.

    ``daily_soft_limit = 0.95`` leaves a provider once a daily window is 95% full, keeping the
    last 5% as headroom for estimates that undercount and for other clients of the same key.
    """
    out = []
    for w in windows:
        if w.limit <= 0:
            continue
        if w.period >= DAY and daily_soft_limit < 1.0:
            w = w.with_limit(max(1, int(w.limit * daily_soft_limit)))
        out.append(w)
    return tuple(out)


def after_call(
    windows: Sequence[Window],
    used: Sequence[int],
    *,
    reserved: int,
    settled: int,
    at: float,
    blocked_until: float | None = None,
    day_ends: dict[str, float] | None = None,
) -> tuple[WindowUsage, ...]:
    """A key's windows once a call admitted at ``at`` is settled, from what admission counted
    (``used``, the store's ``Admission.used``): its ``reserved`` tokens become ``settled``.
    No store is read: the reply's rate-limit headers come from the grant itself.

    A rolling window is back to full one period after this call (the newest entry it holds), a
    calendar one at its day's end (``day_ends`` caches them per zone). A key the reply blocked
    (``blocked_until``: the provider said a window was spent) has nothing left until then.

    Example:
        >>> rpm, tpm = make_window("rpm", 30), make_window("tpm", 6000)
        >>> [(u.name, u.remaining) for u in after_call([rpm, tpm], [3, 1500],
        ...     reserved=1100, settled=40, at=0.0)]
        [('rpm', 27), ('tpm', 5560)]
    """
    ends = {} if day_ends is None else day_ends
    out = []
    for w, u in zip(windows, used, strict=True):
        if w.unit == "tokens":
            u = max(0, u - reserved + settled)
        if w.rolling:
            resets: float = at + w.period
        else:
            resets = ends.get(w.reset, float("-inf"))
            if resets <= at:
                resets = ends[w.reset] = next_day_start(at, w.reset)
        if blocked_until is not None and blocked_until > at:
            u, resets = max(u, w.limit), max(resets, blocked_until)
        out.append(WindowUsage(w.name, w.limit, u, resets))
    return tuple(out)


# --- Budgets: one more window, of money, on the provider's scope -------------------------

MICRO = 1_000_000  # a budget counts micro-dollars: integers, so every store adds them exactly


def micro_usd(usd: float) -> int:
    """``usd`` in micro-dollars, rounded up: a cost is never counted below what it is."""
    return max(0, math.ceil(round(usd * MICRO, 6)))


def budget_window(limit_usd: float, reset: str = "utc") -> Window:
    """A daily budget as a window: ``limit_usd`` (in micro-dollars, rounded down, so the
    window's limit never exceeds the budget) per day, the day ending at ``reset``'s midnight
    (``"utc"``, an IANA zone) or sliding (``"rolling"``: the last 24 hours)."""
    limit = max(0, math.floor(round(limit_usd * MICRO, 6)))
    return Window(name="budget", unit="micro_usd", period=DAY, limit=limit, reset=reset)


@dataclass(frozen=True, slots=True)
class BudgetClaim:
    """What a call holds of its provider's daily budget while it runs: its worst-case cost.

    ``reserve`` takes it with the key's windows in the same atomic step (refusing when the
    day's spend plus what other calls hold plus ``micros`` would pass the budget); the call's
    settlement replaces it by the real cost, or a release gives it back.
    """

    scope: str  # ``budget_scope(provider)``
    window: Window  # ``budget_window(...)``
    micros: int  # the worst-case cost in micro-dollars


# --- The provider knows best: parse what it says about its limits --------------------------

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float | None:
    """Parse a Go-style duration (``2m59.56s``, ``940ms``, ``1h2m3s``) or bare seconds."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    total, pos = 0.0, 0
    for match in _GO_DURATION.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) else None


@dataclass(frozen=True, slots=True)
class LimitObservation:
    """What a reply's headers or body said about one window of the key that served it."""

    window: str  # "rpm" | "rpd" | "tpm" | "tpd"
    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None  # seconds from the reply until the window is full again


def learned_limits(
    observations: Iterable[LimitObservation], current: Mapping[str, int]
) -> dict[str, int]:
    """Limits the provider announced that differ from what we enforce."""
    changed: dict[str, int] = {}
    for obs in observations:
        if obs.limit is not None and obs.limit > 0 and current.get(obs.window) != obs.limit:
            changed[obs.window] = obs.limit
    return changed


def block_from_observations(
    observations: Iterable[LimitObservation], *, now: float, min_tokens: int = 1
) -> tuple[float, str] | None:
    """If the provider says a window is spent, until when to skip the key, and which window.

    A requests window with nothing remaining, or a tokens window with fewer than ``min_tokens``
    left, blocks the key until the window's announced reset.
    """
    until: float | None = None
    which = ""
    for obs in observations:
        if obs.remaining is None or obs.reset_after is None:
            continue
        spent = obs.remaining <= 0 if obs.window.startswith("r") else obs.remaining < min_tokens
        if spent and (until is None or now + obs.reset_after > until):
            until, which = now + obs.reset_after, obs.window
    return (until, which) if until is not None else None


# -- scopes: the names under which the store keeps a key's windows and the circuits ----------


def key_scope(provider: str, alias: str) -> str:
    return f"{provider}:{alias}"


def provider_scope(provider: str) -> str:
    return f"provider:{provider}"


def budget_scope(provider: str) -> str:
    """Where a provider's daily budget is counted: every key and process of it shares one."""
    return f"budget:{provider}"


def model_scope(provider: str, model: str) -> str:
    """The circuit of one model on one provider: a model's 5xx does not cool its neighbours."""
    return f"model:{provider}/{model}"


def provider_windows(
    windows: Iterable[Window],
    learned: Mapping[str, int],
    *,
    day_reset: str = "rolling",
    guard: float = 0.0,
) -> tuple[Window, ...]:
    """A provider key's configured ``windows``, tightened by any lower limit the provider
    announced, plus a window for each limit it announced that nothing configured.

    A learned limit only ever lowers a configured window: a limit set lower in
    ``llmswitch.toml`` is a deliberate choice (headroom for other clients of the key) that a
    header must not undo. Where no window is configured (every custom provider, and limits a
    provider states only in its 429 messages), the announced limit becomes the window, with the
    provider's ``day_reset`` for daily ones, until the configuration says otherwise.
    """
    declared = tuple(windows)
    names = {w.name for w in declared}
    tightened = tuple(
        w.with_limit(min(w.limit, learned[w.name])) if learned.get(w.name) else w for w in declared
    )
    adopted = tuple(
        make_window(name, limit, reset=day_reset, guard=guard)
        for name, limit in sorted(learned.items())
        if name not in names and name in WINDOW_NAMES and limit > 0
    )
    return tightened + adopted
