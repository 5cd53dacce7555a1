"""Candidate ordering policies: which provider to try first.

Every strategy orders free providers before paid ones while ``paid_last`` holds (the default: a
paid provider serves only when no free one can take the call) and breaks ties by priority, so
orders are deterministic and testable.

- ``priority``: the configured priority (Groq 1, Gemini 2, ...). The default.
- ``weighted``: smooth weighted round robin (nginx's algorithm) over ``weight``: spreads load
  evenly and deterministically rather than randomly.
- ``headroom``: most remaining capacity first (the smallest remaining fraction of any window).
- ``cheapest``: lowest price of the model that would serve, per 1M tokens in + out.
- ``fastest``: lowest recent latency (an exponentially weighted mean); untried providers first,
  so each gets measured.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from llmswitch._errors import ConfigError

STRATEGIES = ("priority", "weighted", "headroom", "cheapest", "fastest")


@dataclass(frozen=True, slots=True)
class ProviderView:
    """What a strategy may know about one provider at ordering time."""

    name: str
    priority: int
    free: bool
    weight: float = 1.0
    price_per_mtok: float = 0.0  # input + output USD per 1M tokens of the serving model
    latency_s: float | None = None  # recent mean; None when never measured
    headroom: float = 1.0  # smallest remaining fraction over its windows (1.0 = untouched)


class LatencyTracker:
    """Exponentially weighted mean latency per provider (alpha 0.3): recent calls weigh most."""

    def __init__(self, alpha: float = 0.3) -> None:
        self._alpha = alpha
        self._means: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, provider: str, seconds: float) -> None:
        with self._lock:
            old = self._means.get(provider)
            self._means[provider] = seconds if old is None else old + self._alpha * (seconds - old)

    def get(self, provider: str) -> float | None:
        return self._means.get(provider)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._means)


class WeightedRotation:
    """Smooth weighted round robin: with weights 5,1,1 the order of firsts is a a b a c a a."""

    def __init__(self) -> None:
        self._current: dict[str, float] = {}
        self._lock = threading.Lock()

    def next_first(self, views: Sequence[ProviderView]) -> str | None:
        if not views:
            return None
        with self._lock:
            total = 0.0
            best: ProviderView | None = None
            for v in views:
                w = max(v.weight, 0.0)
                total += w
                self._current[v.name] = self._current.get(v.name, 0.0) + w
                if best is None or self._current[v.name] > self._current[best.name]:
                    best = v
            assert best is not None
            self._current[best.name] -= total
            return best.name


def _free_first(
    key: Callable[[ProviderView], tuple[float, ...]], paid_last: bool = True
) -> Callable[[ProviderView], tuple[float, ...]]:
    if not paid_last:
        return lambda v: (*key(v), float(v.priority))
    return lambda v: (0.0 if v.free else 1.0, *key(v), float(v.priority))


_ORDER_KEYS: Mapping[str, Callable[[ProviderView], tuple[float, ...]]] = {
    "priority": lambda v: (),
    "headroom": lambda v: (-v.headroom,),
    "cheapest": lambda v: (v.price_per_mtok,),
    "fastest": lambda v: (v.latency_s if v.latency_s is not None else -1.0,),
}


def order(
    strategy: str,
    views: Sequence[ProviderView],
    *,
    rotation: WeightedRotation | None = None,
    paid_last: bool = True,
) -> list[str]:
    """Provider names in the order to try them (``paid_last``: free ones first)."""
    if strategy == "weighted":
        rotation = rotation or WeightedRotation()
        ranked = sorted(views, key=_free_first(_ORDER_KEYS["priority"], paid_last))
        free = [v for v in ranked if v.free] if paid_last else []
        first = rotation.next_first(free or ranked)
        return [first] + [v.name for v in ranked if v.name != first] if first else []
    try:
        key = _ORDER_KEYS[strategy]
    except KeyError:
        raise ConfigError(
            f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}"
        ) from None
    return [v.name for v in sorted(views, key=_free_first(key, paid_last))]
