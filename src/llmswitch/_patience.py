"""Patience before paying: wait for a free slot that is about to open instead of buying a call.

When the next candidate of a call is paid and a free candidate was skipped only because its
window (or circuit) frees up within ``free_wait_seconds``, the call waits for it rather than
spend money: the seed's economics ("free tiers first") over a burst, not only over a day.
``free_wait_seconds = 0`` is the seed's behaviour (buy at once).

Waiters are served first come, first served within a process: each waiting call takes a place
in ``FreeWaiters`` and wakes ``STAGGER`` seconds after the one before it, so when the slot opens
the earliest waiter asks admission first and takes it; the others find it gone and wait again
for the next one, never past their own ``free_wait`` from the call's start.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from llmswitch._types import Attempt, Outcome

#: Seconds between two waiters' wake-ups: enough to order their admissions, too little to notice.
STAGGER = 0.001

#: Skips a free candidate recovers from by itself: a full window, an open circuit.
_PASSING = frozenset({Outcome.NOT_ADMITTED, Outcome.COOLING_DOWN})


def free_slot_wait(
    skipped: Iterable[Attempt], free: set[str], *, waited: float, patience: float
) -> float | None:
    """Seconds until the soonest free candidate skipped in this pass frees up, if that comes
    within ``patience`` counted from the call's start (``waited`` already spent); else None."""
    if patience <= 0:
        return None
    waits = [
        a.retry_after
        for a in skipped
        if a.provider in free and a.outcome in _PASSING and a.retry_after is not None
    ]
    if not waits:
        return None
    wait = min(waits)
    return wait if waited + wait <= patience else None


class FreeWaiters:
    """The calls of one process waiting for a free slot, in arrival order."""

    def __init__(self) -> None:
        self._order: dict[int, None] = {}
        self._lock = threading.Lock()

    def place(self, call: object) -> int:
        """``call``'s place in the queue (0: first), joining it at the end if new."""
        with self._lock:
            self._order.setdefault(id(call), None)
            return list(self._order).index(id(call))

    def leave(self, call: object) -> None:
        with self._lock:
            self._order.pop(id(call), None)

    def __len__(self) -> int:
        return len(self._order)
