"""The live dashboard: the page at ``/``, its assets, and the one JSON it polls.

Why one JSON (``/api/dashboard``): the page polls every 1.5 s, and a single read of status,
history and savings keeps that cheap and consistent. The page and its script and stylesheet are
package data served from memory: no CDN, so the dashboard works offline and on an air-gapped host.

``RequestHistory`` is a sink that buckets finished calls per provider by *real* time (not the
manager's clock): the chart shows what the gateway did in the last minutes, also during
``llmswitch demo`` where simulated days pass in seconds.

Savings: what today's free calls would have cost on the paid fallback, priced at the first paid
provider's default model (preferring one that has a key), so operators see what the free tiers
are worth.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from llmswitch._events import CallFinished, Event
from llmswitch.server import shapes
from llmswitch.server.status_api import redacted_json

if TYPE_CHECKING:
    from llmswitch._config import ProviderSettings, Settings
    from llmswitch._manager import LLMProviderManager

FAILED = "failed"
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/static/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}


class RequestHistory:
    """A ``Sink`` counting finished calls per provider in fixed real-time buckets.

    Args:
        bucket_s: width of one bucket in seconds.
        buckets: how many buckets the chart shows (older ones are dropped).
        clock: real time by default; tests pass a fake one.
    """

    def __init__(
        self, *, bucket_s: float = 10.0, buckets: int = 60, clock: Callable[[], float] = time.time
    ) -> None:
        self.bucket_s = bucket_s
        self.buckets = buckets
        self._clock = clock
        self._counts: dict[int, dict[str, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if not isinstance(event, CallFinished):
            return
        index = int(self._clock() // self.bucket_s)
        name = event.provider or FAILED
        with self._lock:
            slot = self._counts.setdefault(index, {})
            slot[name] = slot.get(name, 0) + 1
            if len(self._counts) > self.buckets * 2:
                for old in [i for i in self._counts if i <= index - self.buckets]:
                    del self._counts[old]

    def snapshot(self) -> dict[str, Any]:
        """``{bucket_s, end, providers, series: {name: [count per bucket, oldest first]}}``."""
        now_index = int(self._clock() // self.bucket_s)
        first = now_index - self.buckets + 1
        with self._lock:
            window = {i: dict(c) for i, c in self._counts.items() if i >= first}
        names = sorted({n for c in window.values() for n in c})
        series = {
            n: [window.get(i, {}).get(n, 0) for i in range(first, now_index + 1)] for n in names
        }
        return {
            "bucket_s": self.bucket_s,
            "end": (now_index + 1) * self.bucket_s,
            "providers": names,
            "series": series,
        }


def paid_reference(settings: Settings) -> ProviderSettings | None:
    """The paid fallback: the first paid provider by priority, preferring one with a key."""
    paid = [p for p in settings.providers if not p.free and p.models]
    with_key = [p for p in paid if p.keys]
    choices = with_key or paid
    return choices[0] if choices else None


def savings_today(settings: Settings, usage: dict[str, Any]) -> dict[str, Any]:
    """What today's free-tier tokens would have cost at the paid fallback's price."""
    ref = paid_reference(settings)
    free = {p.name for p in settings.providers if p.free}
    if ref is None:
        return {"usd": 0.0, "free_calls": 0, "reference": None}
    price_in, price_out = ref.price(ref.default_model)
    saved, calls = 0.0, 0
    for name, totals in usage.get("providers", {}).items():
        if name in free:
            saved += (
                totals.get("prompt_tokens", 0) * price_in
                + totals.get("completion_tokens", 0) * price_out
            ) / 1_000_000
            calls += int(totals.get("succeeded", 0))
    return {
        "usd": round(saved, 8),
        "free_calls": calls,
        "reference": {
            "provider": ref.name,
            "model": ref.default_model,
            "price_in_per_mtok": price_in,
            "price_out_per_mtok": price_out,
        },
    }


class DashboardRoutes:
    """The page, its assets and ``/api/dashboard``."""

    def __init__(
        self, manager: LLMProviderManager, history: RequestHistory, redact: shapes.Redact
    ) -> None:
        self._manager = manager
        self._history = history
        self._redact = redact
        folder = resources.files("llmswitch.server").joinpath("static")
        self._assets = {
            path: (folder.joinpath(name).read_bytes(), media)
            for path, (name, media) in _ASSETS.items()
        }

    def routes(self) -> list[BaseRoute]:
        out: list[BaseRoute] = [Route(path, self.asset, methods=["GET"]) for path in self._assets]
        out.append(Route("/api/dashboard", self.data, methods=["GET"]))
        return out

    async def asset(self, request: Request) -> Response:
        body, media = self._assets[request.url.path]
        return Response(body, media_type=media, headers={"cache-control": "no-cache"})

    async def data(self, request: Request) -> Response:
        usage = self._manager.get_usage("today")
        body = {
            "status": self._manager.get_provider_status(),
            "history": self._history.snapshot(),
            "savings": savings_today(self._manager.settings, usage),
            "usage": {"total_cost_usd": usage.get("total_cost_usd", 0.0)},
        }
        return redacted_json(body, self._redact)
