"""A key's windows as admission sees them, and how full they are: the one reading that the
status, ``current_provider``, the alerts, the ``headroom`` strategy and the gateway's rate-limit
headers share, so none of them can disagree with admission.

The windows are the configured ones, tightened (or added) by limits learned from the provider,
with day windows at ``daily_soft_limit``; a token window is full once the smallest call no longer
fits, as admission would refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmswitch._config import ProviderSettings, Settings
from llmswitch._errors import StorageError
from llmswitch._quota import (
    DAY,
    Window,
    WindowUsage,
    admission_windows,
    key_scope,
    provider_windows,
)
from llmswitch._state.base import Store
from llmswitch._tokens import COMPLETION_ESTIMATE, SMALLEST_CALL_ESTIMATE


def read_key(
    p: ProviderSettings,
    alias: str,
    store: Store,
    now: float,
    daily_soft_limit: float,
    *,
    call_tokens: int = 1,
) -> KeyReading:
    """One key's windows as admission sees them (learned limits, then the daily soft limit)
    and their usage: the one reading status, ``current_provider`` and alerts share.
    ``call_tokens``: what a call reserves in a token window (see ``KeyReading.call_tokens``)."""
    scope = key_scope(p.name, alias)
    windows = learned_windows(p, store.get_learned_limits(scope))
    return KeyReading(
        windows,
        admission_windows(windows, daily_soft_limit),
        store.usage(scope, windows, now=now),
        call_tokens,
    )


def smallest_call(p: ProviderSettings, settings: Settings) -> int:
    """The tokens admission reserves for the smallest call to ``p``: a one-line prompt and no
    ``max_tokens``, so the reply's estimate (the provider's ``estimate_completion_tokens``)."""
    own = p.estimate_completion_tokens
    reply = settings.estimate_completion_tokens if own is None else own
    return SMALLEST_CALL_ESTIMATE - COMPLETION_ESTIMATE + reply


def learned_windows(p: ProviderSettings, learned: dict[str, int]) -> tuple[Window, ...]:
    """The key's windows as admission builds them: configured, learned, adopted."""
    return provider_windows(
        p.windows(), learned, day_reset=p.day_resets, guard=p.window_guard_seconds
    )


def headroom(p: ProviderSettings, store: Store, now: float) -> float:
    """The most room any key of ``p`` has left, as a fraction of its fullest window (the
    ``headroom`` strategy's input; 0 when the store cannot say: the provider goes last, and
    admission decides whether it can be called at all)."""
    best = 0.0
    for key in p.keys:
        scope = key_scope(p.name, key.alias)
        try:
            windows = learned_windows(p, store.get_learned_limits(scope))
            usage = store.usage(scope, windows, now=now)
        except StorageError:
            return 0.0
        best = max(best, min((1.0 - u.fraction_used for u in usage), default=1.0))
    return best


@dataclass(frozen=True, slots=True)
class KeyReading:
    windows: tuple[Window, ...]  # the key's limits (configured, tightened by learned ones)
    admitted: tuple[Window, ...]  # what admission reserves against (daily soft limit applied)
    usage: list[WindowUsage]
    #: what the next call reserves in a token window: a window that cannot hold it is full for
    #: admission, though it is not at its limit (1: any room at all counts)
    call_tokens: int = 1

    @property
    def full(self) -> bool:
        """Admission would refuse the next request: some window is at its admitted limit."""
        return self.full_window() is not None

    def full_window(self) -> tuple[str, float | None] | None:
        """Why admission would refuse the next request, and when that window frees up:
        ``day_soft_limit`` (a daily window at ``daily_soft_limit``, below its real limit),
        ``day_full`` or ``minute_full``; None when every window has room."""
        admit = {w.name: w.limit for w in self.admitted}
        days = {w.name for w in self.windows if w.period >= DAY or not w.rolling}
        tokens = {w.name for w in self.windows if w.unit == "tokens"}
        for u in self.usage:
            need = self.call_tokens if u.name in tokens else 1
            if u.used + need <= admit.get(u.name, u.limit):
                continue
            if u.name not in days:
                return "minute_full", u.resets_at
            return ("day_full" if u.used >= u.limit else "day_soft_limit"), u.resets_at
        return None
