"""The live dashboard: the page at ``/``, its assets, and the JSON it polls.

Why one JSON for the cards (``/api/dashboard``): the page polls every 1.5 s, and a single read
of status, history and savings keeps that cheap and consistent. The charts have their own
(``/api/dashboard/charts``, ``charts.py``), read every few seconds: they scan the ledger. The page
and its script and stylesheet are package data served from memory: no CDN, so the dashboard
works offline and on an air-gapped host.

``RequestHistory`` is a sink that buckets finished calls per provider by *real* time (not the
manager's clock): the live strip shows what the gateway did in the last minutes, also during
``llmswitch demo`` where simulated days pass in seconds. Everything else (cards, charts, alerts,
the clock in the header) is on the manager's clock, and the page labels that clock "simulated"
when it is far from the browser's own.

Savings are the status's own figure (``savings_today_usd``: a free call priced at its own
model's list price) and the same rule per model, from the day's roll-ups, so the rows add up to
the total.

Errors: a provider's last error may be a whole upstream body; the page shows it on one line
(``summary``, cut at a word) with the full text on demand, so old errors on a healthy card do
not read as an outage.
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

from llmswitch import _ledger as ledger
from llmswitch._errors import StorageError
from llmswitch._events import CallFinished, Event
from llmswitch._ledger import RollupRow
from llmswitch._status import savings_usd
from llmswitch.server import shapes
from llmswitch.server.charts import ChartRoutes
from llmswitch.server.status_api import redacted_json

if TYPE_CHECKING:
    from llmswitch._config import Settings
    from llmswitch._manager import LLMProviderManager

FAILED = "failed"
SUMMARY_WIDTH = 72  # the page shortens it further, at a word, to fit its card
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/static/dashboard-charts.js": ("dashboard-charts.js", "text/javascript; charset=utf-8"),
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


def one_line(text: str, width: int = SUMMARY_WIDTH) -> str:
    """``text`` on one line of at most ``width`` characters: whitespace folded, and when too
    long cut at the last word boundary (a hard cut only when one word fills most of the line,
    such as a URL) with an ellipsis, so a reader never sees half a word."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-—(") + "…"


def summarised(status: dict[str, Any], redact: shapes.Redact) -> dict[str, Any]:
    """``status`` with a one-line ``summary`` beside each provider's ``last_error``, made from the
    redacted text (a cut must never leave a fragment of a key the redactor cannot see)."""
    for p in status.get("providers", {}).values():
        error = p.get("last_error")
        if error:
            whole = f"{error.get('kind')}: {redact(error.get('message') or '')}".rstrip(": ")
            error["summary"] = one_line(whole)
    return status


def savings_by_model(settings: Settings, rows: list[RollupRow]) -> list[dict[str, Any]]:
    """What each free model saved over ``rows``, by the status's rule (``savings_usd``: its
    tokens at that very model's list price; nothing for a model without one), most first."""
    free = {p.name: p for p in settings.providers if p.free}
    groups: dict[tuple[str, str], list[RollupRow]] = {}
    for r in rows:
        if r.provider in free:
            groups.setdefault((r.provider, r.model), []).append(r)
    out = []
    for (provider, model), group in groups.items():
        price_in, price_out = free[provider].price(model)
        out.append(
            {
                "provider": provider,
                "model": model,
                "calls": sum(r.succeeded for r in group),
                "prompt_tokens": sum(r.prompt_tokens for r in group),
                "completion_tokens": sum(r.completion_tokens for r in group),
                "price_in_per_mtok": price_in,
                "price_out_per_mtok": price_out,
                "priced": bool(price_in or price_out),
                "saved_usd": savings_usd(settings, group),
            }
        )
    return sorted(out, key=lambda m: (-m["saved_usd"], m["provider"], m["model"]))


class DashboardRoutes:
    """The page, its assets, ``/api/dashboard`` and ``/api/dashboard/charts``."""

    def __init__(
        self, manager: LLMProviderManager, history: RequestHistory, redact: shapes.Redact
    ) -> None:
        self._manager = manager
        self._history = history
        self._redact = redact
        self._charts = ChartRoutes(manager, redact)
        folder = resources.files("llmswitch.server").joinpath("static")
        self._assets = {
            path: (folder.joinpath(name).read_bytes(), media)
            for path, (name, media) in _ASSETS.items()
        }

    def routes(self) -> list[BaseRoute]:
        out: list[BaseRoute] = [Route(path, self.asset, methods=["GET"]) for path in self._assets]
        out.append(Route("/api/dashboard", self.data, methods=["GET"]))
        out.append(Route("/api/dashboard/charts", self._charts.charts, methods=["GET"]))
        return out

    async def asset(self, request: Request) -> Response:
        body, media = self._assets[request.url.path]
        return Response(body, media_type=media, headers={"cache-control": "no-cache"})

    async def data(self, request: Request) -> Response:
        status = summarised(self._manager.get_provider_status(), self._redact)
        day = ledger.utc_day(status["time"])
        try:
            rows = self._manager.store.rollup_rows(since_day=day, until_day=day)
        except StorageError:  # the status says the store is degraded; no breakdown meanwhile
            rows = []
        body = {
            "status": status,
            "history": self._history.snapshot(),
            "savings": {
                "day": day,
                "money_day": status.get("money_day", "utc"),
                "saved_usd": status.get("savings_today_usd", 0.0),
                "spent_usd": status.get("spent_today_usd", 0.0),
                "by_model": savings_by_model(self._manager.settings, rows),
            },
        }
        return redacted_json(body, self._redact)
