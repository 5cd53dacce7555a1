"""Alerts: a provider key filling up, a cooldown, a refused key, a budget, an outage, the store.

``AlertMonitor`` is an event sink (see ``llmswitch._events``). It turns the router's events into
``Alert`` records, each raised **once per crossing**: a latched condition stays quiet until it
clears (the window slid or reset below the threshold, the provider recovered, the store came
back), then it may fire again. Every alert goes to a WARNING log line, to the bounded list of
recent alerts (``get_provider_status()["alerts"]``, newest first) and to the handlers: the
``on_alert`` callback of ``LLMProviderManager``, the webhook of ``[alerts] webhook_url`` (sent in
the background, see ``llmswitch._webhook``) and the gateway's Prometheus counter.

Kinds:

``window_threshold``
    A window of one provider key passed a threshold (default 80% and 95%). Per-day windows (a
    period of a day, or a calendar reset) alert at once; per-minute windows only once the fraction
    has stayed past the threshold for ``minute_sustain_seconds``, since a busy minute is normal.
    A jump past several thresholds at once raises one alert, for the highest.
``cooldown`` / ``recovered``
    A provider's circuit opened (server errors, timeouts...) / a call succeeded on it again.
``auth_failed``
    The provider refused a key. Re-armed when that key serves a call again.
``day_left``
    A key reached the daily soft limit of one of its day windows (``daily_soft_limit``, 95%
    by default): admission sends it nothing more until that window resets, so traffic has left
    it for the rest of its day. Re-armed when the window is below the limit again.
``budget_threshold``
    A paid provider spent ``budget_threshold`` (default 80%) of its ``daily_budget_usd`` in its
    budget day (``budget_resets``), calls in flight counted at their worst case as admission
    counts them.
``all_unavailable`` / ``available_again``
    A call found every provider unavailable / a provider served a call again.
``store_degraded`` / ``store_recovered``
    The state store stopped answering / answers again.

Why usage is sampled, not read per call: window usage lives in the store (a Redis round trip),
so a key's windows are read at most once per ``check_interval_seconds`` of the injected clock,
triggered by that key's sent attempts. Between checks the sink costs a dict lookup.

Alerts carry provider names and key aliases (the variable a key came from, ``GROQ_API_KEY``),
never a key: messages are built from names and numbers, and the few that quote a text from
elsewhere (an outage's detail, why no provider could take a call, which may quote a provider's
echo of a key) are redacted by value against the configured keys before any handler, the log,
the recent list or the webhook sees them.

Example:
    >>> from llmswitch import get_llm_manager
    >>> llm = get_llm_manager()                                       # doctest: +SKIP
    >>> llm.add_alert_handler(lambda alert: print(alert.message))     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmswitch._config import ProviderSettings, Settings
from llmswitch._events import (
    AttemptFinished,
    CallFinished,
    CircuitChanged,
    Event,
    NoProviderAvailable,
    StoreHealthChanged,
)
from llmswitch._key_reading import read_key
from llmswitch._policies import budget_of
from llmswitch._quota import DAY, WindowUsage, key_scope, next_day_start
from llmswitch._secrets import SecretRedactor
from llmswitch._state.base import Store

if TYPE_CHECKING:
    from llmswitch._webhook import WebhookSender

log = logging.getLogger("llmswitch.alerts")

ALERT_KINDS = (
    "window_threshold",
    "cooldown",
    "recovered",
    "auth_failed",
    "day_left",
    "budget_threshold",
    "all_unavailable",
    "available_again",
    "store_degraded",
    "store_recovered",
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: what happened, to which provider, key alias and window, and the numbers.

    Example:
        >>> Alert(kind="recovered", message="groq recovered", ts=0.0, provider="groq").kind
        'recovered'
    """

    kind: str
    message: str
    ts: float
    provider: str | None = None
    key_alias: str | None = None  # the key's variable name (GROQ_API_KEY_2), never the key
    window: str | None = None  # rpm | rpd | tpm | tpd | budget_usd
    used: float | None = None
    limit: float | None = None
    resets_at: float | None = None
    threshold: float | None = None
    request_id: str | None = None  # the call that raised it (the gateway's x-request-id)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict: the status API's and the webhook's shape."""
        return asdict(self)


AlertHandler = Callable[[Alert], None]


def passed_thresholds(
    thresholds: Sequence[float], used: float, limit: float, *, cap: float | None = None
) -> list[float]:
    """The thresholds ``used`` has reached out of ``limit`` (none when the limit is off).

    ``cap`` is where admission stops a day window (``daily_soft_limit``, rounded down): a key that
    full has passed every threshold, even when rounding leaves it a hair under 95%.
    """
    if limit <= 0:
        return []
    full = cap is not None and used >= cap
    return [t for t in thresholds if full or used >= limit * t - 1e-9]


@dataclass(slots=True)
class ThresholdLatch:
    """The thresholds of one window already announced; pure apart from its own state.

    ``observe`` gets the thresholds passed now and returns the one to announce, if any. A
    threshold counts once it has been passed for ``sustain`` seconds (0 for day windows); it
    re-arms as soon as an observation finds the window below it again.

    Example:
        >>> latch = ThresholdLatch()
        >>> latch.observe([0.8], now=0.0), latch.observe([0.8], now=5.0), latch.observe([], 9.0)
        (0.8, None, None)
    """

    sustain: float = 0.0
    latched: float | None = None
    since: dict[float, float] = field(default_factory=dict)

    def observe(self, passed: Sequence[float], now: float) -> float | None:
        for t in [t for t in self.since if t not in passed]:
            del self.since[t]
        for t in passed:
            self.since.setdefault(t, now)
        top = max((t for t in passed if now - self.since[t] >= self.sustain), default=None)
        fire = top if top is not None and (self.latched is None or top > self.latched) else None
        self.latched = top
        return fire


class AlertMonitor:
    """A ``Sink`` that raises each alert once per crossing and fans it out.

    Args:
        settings: the providers and ``settings.alerts`` (thresholds, intervals, webhook).
        store: where window usage and today's spending are read.
        handlers: callables receiving each ``Alert``; one that raises is logged and skipped.
        webhook: the webhook sender; by default one is built when ``webhook_url`` is set.

    Time is each event's ``ts`` (the manager's injected clock): a ``FakeClock`` drives it all.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        handlers: Sequence[AlertHandler] = (),
        webhook: WebhookSender | None = None,
    ) -> None:
        self.config = settings.alerts
        self._providers = {p.name: p for p in settings.providers}
        self._store = store
        self._soft_limit = settings.daily_soft_limit
        self._redact = SecretRedactor(k.secret_value() for p in settings.providers for k in p.keys)
        if webhook is None and self.config.webhook_url is not None:
            from llmswitch._webhook import WebhookSender

            webhook = WebhookSender(
                self.config.webhook_url.get_secret_value(),
                timeout=self.config.webhook_timeout_seconds,
                retries=self.config.webhook_retries,
            )
        self.webhook = webhook
        self._handlers: tuple[AlertHandler, ...] = tuple(handlers) + (
            (webhook,) if webhook is not None else ()
        )
        self._recent: deque[Alert] = deque(maxlen=self.config.recent_limit)
        self._lock = threading.Lock()
        self._next_check: dict[tuple[str, str], float] = {}
        self._latches: dict[tuple[str, ...], ThresholdLatch] = {}
        self._flags: set[tuple[str, ...]] = set()  # latched conditions that clear on an event
        self._all_down = False

    def add_handler(self, handler: AlertHandler) -> None:
        with self._lock:
            self._handlers = (*self._handlers, handler)

    def recent(self) -> list[dict[str, Any]]:
        """The last ``recent_limit`` alerts as dicts, newest first."""
        with self._lock:
            alerts = list(self._recent)
        return [a.as_dict() for a in reversed(alerts)]

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close()

    # -- the sink --------------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        if isinstance(event, AttemptFinished):
            if event.sent:
                self._on_attempt(event)
        elif isinstance(event, CallFinished):
            if event.provider is not None and self._all_down:
                self._clear("all_unavailable", (), _available_again(event))
        elif isinstance(event, CircuitChanged):
            self._on_circuit(event)
        elif isinstance(event, NoProviderAvailable):
            self._raise_once(("all_unavailable",), _all_unavailable(event))
        elif isinstance(event, StoreHealthChanged):
            self._on_store(event)

    def _on_attempt(self, event: AttemptFinished) -> None:
        a = event.attempt
        ident = (a.provider, a.key_alias)
        if a.outcome == "ok" and ("auth_failed", *ident) in self._flags:
            with self._lock:
                self._flags.discard(("auth_failed", *ident))
        if event.ts < self._next_check.get(ident, float("-inf")):
            return  # the hot path: checked recently
        with self._lock:
            if event.ts < self._next_check.get(ident, float("-inf")):
                return
            self._next_check[ident] = event.ts + self.config.check_interval_seconds
        provider = self._providers.get(a.provider)
        if provider is None:
            return
        try:
            alerts = self._check_key(provider, a.key_alias, event.ts)
        except Exception as exc:  # a store that cannot be read: no alert now, try next interval
            log.debug("llmswitch: alert check of %s skipped: %s", a.provider, exc)
            return
        for alert in alerts:
            self._deliver(replace(alert, request_id=event.request_id or None))

    def _on_circuit(self, event: CircuitChanged) -> None:
        if event.state == "open":
            self._raise_once(("cooldown", event.provider), _cooldown(event))
        elif event.state == "closed":
            self._clear("cooldown", (event.provider,), _recovered(event))
        elif event.state == "auth_failed" and event.key_alias is not None:
            self._raise_once(("auth_failed", event.provider, event.key_alias), _auth(event))

    def _on_store(self, event: StoreHealthChanged) -> None:
        if not event.ok:
            self._raise_once(("store", event.backend), _store_degraded(event))
        else:
            self._clear("store", (event.backend,), _store_recovered(event))

    # -- latches ---------------------------------------------------------------------------------
    def _raise_once(self, flag: tuple[str, ...], alert: Alert) -> None:
        with self._lock:
            if flag in self._flags:
                return
            self._flags.add(flag)
            if flag[0] == "all_unavailable":
                self._all_down = True
        self._deliver(alert)

    def _clear(self, kind: str, ident: tuple[str, ...], alert: Alert) -> None:
        """Re-arm a latched condition and announce that it ended (nothing if it was not set)."""
        with self._lock:
            if (kind, *ident) not in self._flags:
                return
            self._flags.discard((kind, *ident))
            if kind == "all_unavailable":
                self._all_down = False
        self._deliver(alert)

    def _check_key(self, p: ProviderSettings, alias: str, now: float) -> list[Alert]:
        """Read one key's windows (and its provider's spending) and latch what they pass."""
        scope = key_scope(p.name, alias)
        reading = read_key(p, alias, self._store, now, self._soft_limit)
        windows, usage = reading.windows, reading.usage
        admitted = {w.name: w.limit for w in reading.admitted}
        budget = budget_of(p, self._store, now)
        cfg, out = self.config, []
        with self._lock:
            by_name = {u.name: u for u in usage}
            for w in windows:
                if (u := by_name.get(w.name)) is None:
                    continue
                per_day = w.period >= DAY or not w.rolling
                latch = self._latches.setdefault(
                    (scope, w.name),
                    ThresholdLatch(sustain=0.0 if per_day else cfg.minute_sustain_seconds),
                )
                # a day window is "full" where admission stops (the daily soft limit)
                cap = admitted.get(w.name) if per_day and admitted.get(w.name) != w.limit else None
                passed = passed_thresholds(cfg.thresholds, u.used, u.limit, cap=cap)
                fired = latch.observe(passed, now)
                if fired is not None:
                    out.append(_window_alert(p.name, alias, w.unit, u, fired, now, per_day))
                if per_day:  # the moment traffic leaves this key for the rest of its day
                    left = self._latches.setdefault((scope, w.name, "day_left"), ThresholdLatch())
                    at_cap = u.used >= admitted.get(w.name, u.limit)
                    if left.observe([1.0] if at_cap else [], now) is not None:
                        out.append(_day_left_alert(p.name, alias, w.unit, u, now))
            if budget is not None:
                latch = self._latches.setdefault(("budget", p.name), ThresholdLatch())
                spent = budget.spent_usd
                passed = passed_thresholds([cfg.budget_threshold], spent, budget.limit_usd)
                if latch.observe(passed, now) is not None:
                    out.append(_budget_alert(p, spent, cfg.budget_threshold, now))
        return out

    # -- fan-out ---------------------------------------------------------------------------------
    def _deliver(self, alert: Alert) -> None:
        alert = replace(alert, message=self._redact(alert.message))
        with self._lock:
            self._recent.append(alert)
            handlers = self._handlers
        if alert.request_id:
            log.warning(
                "llmswitch alert [%s]: %s (request %s)", alert.kind, alert.message, alert.request_id
            )
        else:
            log.warning("llmswitch alert [%s]: %s", alert.kind, alert.message)
        for handler in handlers:
            try:
                handler(alert)
            except Exception:  # a broken handler must never break a call
                log.warning("llmswitch: alert handler %r failed", handler, exc_info=True)


# --- Messages: built from names and numbers only, never from a key --------------------------

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def _scrub(text: str) -> str:
    """Drop credentials from any URL in ``text`` (``redis://:pw@host`` -> ``redis://***@host``)."""
    return _USERINFO.sub("***@", text)


def _utc(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _window_alert(
    provider: str,
    alias: str,
    unit: str,
    u: WindowUsage,
    threshold: float,
    now: float,
    per_day: bool,
) -> Alert:
    span = "" if per_day else " (sustained)"
    resets = f"; resets at {_utc(u.resets_at)}" if u.resets_at is not None else ""
    return Alert(
        kind="window_threshold",
        message=(
            f"{provider} key {alias}: {u.name} at {u.fraction_used:.0%} of its limit "
            f"({u.used}/{u.limit} {unit}), past {threshold:.0%}{span}{resets}"
        ),
        ts=now,
        provider=provider,
        key_alias=alias,
        window=u.name,
        used=u.used,
        limit=u.limit,
        resets_at=u.resets_at,
        threshold=threshold,
    )


def _day_left_alert(provider: str, alias: str, unit: str, u: WindowUsage, now: float) -> Alert:
    resets = f" until {_utc(u.resets_at)}" if u.resets_at is not None else " for its day"
    return Alert(
        kind="day_left",
        message=(
            f"{provider} key {alias}: {u.name} reached the daily soft limit ({u.used}/{u.limit} "
            f"{unit}); no more traffic goes to it{resets}"
        ),
        ts=now,
        provider=provider,
        key_alias=alias,
        window=u.name,
        used=u.used,
        limit=u.limit,
        resets_at=u.resets_at,
    )


def _budget_alert(p: ProviderSettings, spent: float, threshold: float, now: float) -> Alert:
    return Alert(
        kind="budget_threshold",
        message=(
            f"{p.name} spent ${spent:.4f} of its ${p.daily_budget_usd:.2f} daily budget "
            f"({spent / p.daily_budget_usd:.0%}), past {threshold:.0%}"
        ),
        ts=now,
        provider=p.name,
        window="budget_usd",
        used=round(spent, 8),
        limit=p.daily_budget_usd,
        resets_at=next_day_start(now, "utc"),  # the ledger counts UTC days
        threshold=threshold,
    )


def _cooldown(event: CircuitChanged) -> Alert:
    who = f"{event.provider}/{event.model}" if event.model else event.provider
    left = f" for {event.until - event.ts:.0f} s (until {_utc(event.until)})" if event.until else ""
    return Alert(
        kind="cooldown",
        message=f"{who} is cooling down after {event.kind or 'failures'}{left}",
        ts=event.ts,
        provider=event.provider,
        resets_at=event.until,
        request_id=event.request_id or None,
    )


def _recovered(event: CircuitChanged) -> Alert:
    return Alert(
        kind="recovered",
        message=f"{event.provider} recovered; traffic returns to it",
        ts=event.ts,
        provider=event.provider,
        request_id=event.request_id or None,
    )


def _auth(event: CircuitChanged) -> Alert:
    return Alert(
        kind="auth_failed",
        message=(
            f"{event.provider} refused key {event.key_alias}; it stays disabled until its value "
            "changes"
        ),
        ts=event.ts,
        provider=event.provider,
        key_alias=event.key_alias,
        request_id=event.request_id or None,
    )


def _store_degraded(event: StoreHealthChanged) -> Alert:
    then = (
        "admitting calls on per-process limits (fail_open)"
        if event.fail_open
        else "calls whose limits cannot be checked are refused until it is back"
    )
    return Alert(
        kind="store_degraded",
        message=f"state store {event.backend} is degraded: {_scrub(event.detail)}; {then}",
        ts=event.ts,
    )


def _store_recovered(event: StoreHealthChanged) -> Alert:
    return Alert(
        kind="store_recovered",
        message=f"state store {event.backend} answers again",
        ts=event.ts,
    )


def _all_unavailable(event: NoProviderAvailable) -> Alert:
    retry = event.retry_after
    when = f"; the earliest frees up in {retry:.0f} s" if retry is not None else ""
    return Alert(
        kind="all_unavailable",
        message=f"every provider is unavailable: {_scrub(event.message)}{when}",
        ts=event.ts,
        resets_at=event.ts + retry if retry is not None else None,
        request_id=event.request_id or None,
    )


def _available_again(event: CallFinished) -> Alert:
    return Alert(
        kind="available_again",
        message=f"{event.provider} served a call again; providers are available",
        ts=event.ts,
        provider=event.provider,
        request_id=event.request_id or None,
    )
