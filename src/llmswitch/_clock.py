"""Time as a dependency.

Every window, cooldown and reset in llmswitch reads time through a ``Clock``: a callable that
returns wall-clock seconds since the epoch. Wall time, not monotonic time, because limits are
shared across processes (SQLite, Redis) and persisted across restarts, and because providers
reset their days at calendar midnights. Waiting goes through an injected ``Sleep`` so tests and
the demo can live through a minute or a day without sleeping (see ``llmswitch.testing.FakeClock``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]

system_clock: Clock = time.time
system_sleep: Sleep = time.sleep
system_async_sleep: AsyncSleep = asyncio.sleep


class FakeClock:
    """A clock that only moves when told to; thread-safe.

    ``sleep`` and ``asleep`` advance the clock instead of waiting and record each interval, the way
    tenacity's tests record sleeps. Share one instance between the simulator and the manager so
    both live on the same simulated time.

    Example:
        >>> clock = FakeClock(start=1_780_000_000.0)
        >>> clock.advance(60.0)
        >>> clock()
        1780000060.0
    """

    DEFAULT_START = 1_780_000_000.0  # 2026-05-28T20:26:40Z: a fixed, ordinary instant

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def now(self) -> float:
        return self()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds})")
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        """Jump to an absolute time (never backwards)."""
        with self._lock:
            if when < self._now:
                raise ValueError(f"a clock cannot go back: set({when}) < {self._now}")
            self._now = when

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r})"
