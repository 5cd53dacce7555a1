"""Failing open without overshooting: this process's share of what the shared store had left.

When Redis goes down and ``fail_open`` is set, each process admits on its own ``MemoryStore``.
Counting from zero there is what made a single process send 41 calls in a minute against a limit
of 30: the minute already held the calls made just before the outage. So the guard remembers,
per scope, the counts Redis returned with the last reservation (``Counted``), and admission in
the fallback uses windows cut down to this process's share:

- the limit is divided among the ``processes`` that reserved on the scope lately (integer
  division, so the shares never add up to more than the limit);
- while the calls counted then can still be in the window (a rolling window: until one period
  after the reading; a calendar day: until it ends), this process's share of them is taken off
  too, rounded up.

One process alone thus gets exactly what Redis had left; ``n`` processes each get a ``1/n`` of it
and together never more than the limit. A scope this process never read from Redis has nothing
to start from and is admitted on its own count (documented in ``guarded.py``). Pure: the guard
holds the readings, this module only computes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llmswitch._quota import Window
from llmswitch._state import _common
from llmswitch._state.base import Admission, Counted


@dataclass(frozen=True, slots=True)
class Reading:
    """What the shared store counted for a scope at ``at``, window by window."""

    at: float
    windows: tuple[Window, ...]
    counted: Counted


def share(
    windows: Sequence[Window],
    reading: Reading | None,
    now: float,
    periods: _common.CalendarPeriods,
) -> list[Window] | Admission:
    """``windows`` cut down to this process's share, or a refusal when a share is empty."""
    if reading is None:
        return list(windows)
    processes = max(1, reading.counted.processes)
    counts = {
        (w.name, w.period, w.reset): c
        for w, c in zip(reading.windows, reading.counted.counts, strict=False)
    }
    out = []
    for w in windows:
        if w.limit <= 0:  # the window is off
            out.append(w)
            continue
        limit = w.limit // processes
        count = counts.get((w.name, w.period, w.reset))
        until = reading.at + w.period if w.rolling else periods.period(w.reset, reading.at)[1]
        if count is not None and now < until:
            used = count[0] if w.unit == "requests" else count[1]
            limit -= math.ceil(used / processes)
        if limit <= 0:
            return Admission(
                ok=False,
                window=w.name,
                retry_at=until if w.limit // processes > 0 and now < until else None,
                reason=f"{w.name}: this process's share of the shared limit of {w.limit} "
                f"({processes} processes) is used up while the state store is down",
            )
        out.append(w.with_limit(limit))
    return out
