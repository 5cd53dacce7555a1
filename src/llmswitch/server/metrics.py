"""Prometheus metrics for the gateway, fed by the manager's events.

Why a sink and a registry per app: the router already emits typed events, so metrics need no
hook inside the call path, and a ``CollectorRegistry`` owned by the app (not prometheus_client's
process-global one) lets tests build many apps in one process and keeps two managers' numbers
apart. Window usage is not an event: it is read from the state store when Prometheus scrapes,
so the gauges are exact even when other processes share the store.

Series:

- ``llmswitch_requests_total{provider,outcome,stream}``: calls finished (provider ``none`` when
  every provider failed).
- ``llmswitch_attempts_total{provider,outcome,sent}``: each provider key tried or skipped.
- ``llmswitch_failovers_total{provider,kind}``: moves away from a provider, by failure kind.
- ``llmswitch_tokens_total{provider,direction}`` and ``llmswitch_cost_usd_total{provider}``.
- ``llmswitch_alerts_total{kind,provider}``: alerts raised (provider ``none`` for the store and
  whole-service alerts); see ``llmswitch._alerts``.
- ``llmswitch_request_latency_seconds`` and ``llmswitch_attempt_latency_seconds`` histograms.
- ``llmswitch_window_used`` / ``_limit`` / ``_remaining{provider,window}``,
  ``llmswitch_provider_status{provider,status}``, ``llmswitch_cooldown_remaining_seconds``,
  ``llmswitch_cost_today_usd``, ``llmswitch_state_up`` (1 while the state store answers):
  gauges collected at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from llmswitch._alerts import Alert
from llmswitch._events import AttemptFinished, CallFinished, Event, Failover

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STATUSES = (
    "available",
    "rate_limited",
    "cooling_down",
    "auth_failed",
    "budget_exhausted",
    "degraded",
    "unavailable",
)


class GatewayMetrics:
    """A ``Sink`` that counts calls, attempts, failovers, tokens and cost, plus scrape gauges.

    Example:
        >>> metrics = GatewayMetrics(manager)          # doctest: +SKIP
        >>> manager.add_sink(metrics)                  # doctest: +SKIP
        >>> metrics.render()[:6]                       # doctest: +SKIP
        b'# HELP'
    """

    def __init__(
        self, manager: LLMProviderManager, registry: CollectorRegistry | None = None
    ) -> None:
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.requests = Counter(
            "llmswitch_requests",
            "Calls finished, by serving provider",
            ["provider", "outcome", "stream"],
            registry=reg,
        )
        self.attempts = Counter(
            "llmswitch_attempts",
            "Provider keys tried or skipped",
            ["provider", "outcome", "sent"],
            registry=reg,
        )
        self.failovers = Counter(
            "llmswitch_failovers", "Moves away from a provider", ["provider", "kind"], registry=reg
        )
        self.tokens = Counter(
            "llmswitch_tokens", "Tokens used", ["provider", "direction"], registry=reg
        )
        self.cost = Counter("llmswitch_cost_usd", "Cost in USD", ["provider"], registry=reg)
        self.latency = Histogram(
            "llmswitch_request_latency_seconds",
            "Whole-call latency",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.attempt_latency = Histogram(
            "llmswitch_attempt_latency_seconds",
            "Latency of each sent attempt",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.alerts = Counter(
            "llmswitch_alerts", "Alerts raised, by kind", ["kind", "provider"], registry=reg
        )
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        reg.register(WindowCollector(manager))
        manager.add_alert_handler(self.alert)

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallFinished):
            provider = event.provider or "none"
            outcome = "ok" if event.provider else "failed"
            self._child(self.requests, provider, outcome, str(event.stream).lower()).inc()
            self._child(self.latency, provider).observe(max(0.0, event.latency_s))
        elif isinstance(event, AttemptFinished):
            self._attempt(event)
        elif isinstance(event, Failover):
            self.failovers.labels(event.from_provider, event.kind).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: prometheus_client checks and converts the labels
        on every ``labels`` call, and this runs for every attempt."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def alert(self, alert: Alert) -> None:
        """The alert handler: count each alert by kind and provider."""
        self.alerts.labels(alert.kind, alert.provider or "none").inc()

    def _attempt(self, event: AttemptFinished) -> None:
        a = event.attempt
        self._child(self.attempts, a.provider, a.outcome, str(event.sent).lower()).inc()
        if not event.sent:
            return
        self._child(self.attempt_latency, a.provider).observe(max(0.0, a.latency_s))
        if a.usage.prompt_tokens:
            self._child(self.tokens, a.provider, "prompt").inc(a.usage.prompt_tokens)
        if a.usage.completion_tokens:
            self._child(self.tokens, a.provider, "completion").inc(a.usage.completion_tokens)
        if a.cost_usd:
            self._child(self.cost, a.provider).inc(a.cost_usd)

    def render(self) -> bytes:
        return bytes(_generate_latest(self.registry))

    def routes(self) -> list[BaseRoute]:
        return [Route("/metrics", self.endpoint, methods=["GET"])]

    async def endpoint(self, request: Request) -> Response:
        return Response(self.render(), media_type=CONTENT_TYPE_LATEST)


class WindowCollector(Collector):
    """Gauges read from the manager's status at scrape time: exact, even across processes."""

    def __init__(self, manager: LLMProviderManager) -> None:
        self._manager = manager

    def describe(self) -> list[Metric]:
        return []  # unchecked collector: its series depend on the configuration

    def collect(self) -> Iterator[Metric]:
        status: dict[str, Any] = self._manager.get_provider_status()
        window = {
            name: GaugeMetricFamily(
                f"llmswitch_window_{name}",
                f"Window {name} per provider (summed over keys)",
                labels=["provider", "window"],
            )
            for name in ("used", "limit", "remaining")
        }
        state = GaugeMetricFamily(
            "llmswitch_provider_status",
            "1 for the provider's status",
            labels=["provider", "status"],
        )
        cooldown = GaugeMetricFamily(
            "llmswitch_cooldown_remaining_seconds",
            "Seconds until a cooling provider is tried again",
            labels=["provider"],
        )
        cost = GaugeMetricFamily(
            "llmswitch_cost_today_usd", "Cost today (UTC day)", labels=["provider"]
        )
        model_open = GaugeMetricFamily(
            "llmswitch_model_circuit_open",
            "1 while one model's circuit on a provider is not closed",
            labels=["provider", "model"],
        )
        for name, p in status["providers"].items():
            for model, m in (p.get("models") or {}).items():
                model_open.add_metric([name, model], 0.0 if m.get("circuit") == "closed" else 1.0)
            for wname, w in p.get("windows", {}).items():
                for field, family in window.items():
                    family.add_metric([name, wname], float(w.get(field) or 0))
            for s in STATUSES:
                state.add_metric([name, s], 1.0 if p["status"] == s else 0.0)
            cooldown.add_metric([name], float(p.get("cooldown_remaining_s") or 0.0))
            cost.add_metric([name], float(p.get("cost_today_usd") or 0.0))
        store = status.get("state") or {}
        up = GaugeMetricFamily(
            "llmswitch_state_up", "1 while the state store answers, else 0", labels=["backend"]
        )
        up.add_metric([str(store.get("backend", "unknown"))], 1.0 if store.get("ok") else 0.0)
        yield from window.values()
        yield from (state, cooldown, cost, model_open, up)
