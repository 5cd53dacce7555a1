"""The status picture: the seed's ``get_provider_status()`` shape, and more.

Top level, exactly as the seed: ``current_provider`` and ``providers.{name}`` with ``status``,
``priority``, ``requests_today``, ``requests_this_minute``, ``rate_limit_per_minute``,
``rate_limit_per_day`` (the seed's example means the daily *token* limit) and ``is_current``.
Beyond the seed, per provider: every window's limit, used, remaining and reset time, cooldown
end, last error, tokens and cost today, latency, and the keys, masked. Never a key.

Statuses (each key's availability is ``_availability.decide``, the decision admission takes):
``available`` (the seed's word: can take a call now), ``rate_limited`` (every key at a limit or
blocked),
``cooling_down``, ``auth_failed`` (every key refused), ``budget_exhausted`` (what is left of a paid
provider's daily budget cannot pay for the smallest call: one empty message, no ``max_tokens``),
``unavailable`` (no key configured, or disabled), ``degraded`` (the state store cannot be read,
so the provider's shared limits cannot be checked and it is not called: see ``state``).

Each provider and key also says ``reason`` (why it takes no calls; None when available):
``no_key``, ``disabled``, ``cooling_down``, ``auth_failed``, ``budget``, ``minute_full``,
``day_soft_limit`` (a daily window at ``daily_soft_limit``: traffic has left it for the rest of
its day), ``day_full`` or ``blocked`` (the provider said so), and ``available_at``, when it
may take one again if known; a token window counts as full once the smallest call
(a one-line prompt without ``max_tokens``, reserved at its reply's estimate) would not fit, as
admission would refuse it. ``requests_today`` and ``tokens_today`` count the provider's own
day where it declares a daily window (``today`` names the day of each: the window's zone,
``last 24h (rolling)``, or ``utc`` from the ledger without such a window); a day declared in
tokens only (Gemini's) counts the requests in that same day too. ``budget`` (a paid
provider with ``daily_budget_usd``) is what its budget's own day (``budget_resets``) holds, as
admission counts it: settled costs plus the worst cases of calls in flight. At the top,
``spent_today_usd`` and ``savings_today_usd`` over the ledger's UTC day (``money_day``): a free
call saves what its tokens cost at that very model's list price in the catalog; a model
without a price saves nothing.

A provider whose default model (the first of ``models``) has an open circuit is ``cooling_down``
as well: a call without a model would go to that model, and the router skips it. The provider's
own circuit is ``circuit`` with ``opened_at`` (when it opened) and ``opened_by`` (the kind of
failure that opened it). ``models`` maps every model id, in configured order, to its own circuit
(``circuit``, ``cooldown_until``, ``opened_at``, ``last_error_*``), because a model's 5xx,
timeout or malformed reply cools that model only while connection failures cool the provider.

``state`` says which backend holds the limits and whether it answers: ``status`` is ``ok`` or
``degraded``; with ``fail_open`` true a degraded store admits on per-process limits instead.
"""

from __future__ import annotations

from typing import Any

from llmswitch import _health as health
from llmswitch import _ledger as ledger
from llmswitch._availability import Availability, Budget, decide
from llmswitch._config import ProviderSettings, Settings
from llmswitch._errors import StorageError
from llmswitch._health import HealthRecord
from llmswitch._key_reading import read_key, smallest_call
from llmswitch._ledger import RollupRow
from llmswitch._policies import ProviderPolicies, budget_of, worst_case_usd
from llmswitch._quota import (
    key_scope,
    make_window,
    model_scope,
    provider_scope,
)
from llmswitch._state.base import Store
from llmswitch._strategies import LatencyTracker
from llmswitch._tokens import SMALLEST_CALL_ESTIMATE
from llmswitch._types import Outcome, Usage


def provider_status(
    p: ProviderSettings,
    settings: Settings,
    store: Store,
    now: float,
    latency: LatencyTracker,
    today: dict[str, Any],
) -> dict[str, Any]:
    record = store.get_health(provider_scope(p.name))
    to_trip = ProviderPolicies(settings).breaker(p).failures_to_trip  # the breaker admission uses
    circuit = health.assess_circuit(record, now=now, failures_to_trip=to_trip)
    every = (*p.models, *p.embedding_models)  # an embedding model cools down on its own too
    model_records = {m: store.get_health(model_scope(p.name, m)) for m in every}
    models = {m: _model_status(rec, now, to_trip) for m, rec in model_records.items()}
    default = models[p.models[0]] if p.models else None
    # The provider is out while its own circuit or its default model's is open; the cooldown
    # shown is then the one that ends last.
    cooling = [
        until
        for until in (
            circuit.until if circuit.state is health.CircuitState.OPEN else None,
            default["cooldown_until"] if default is not None else None,
        )
        if until is not None
    ]
    cooldown_until = max(cooling) if cooling else circuit.until
    # the budget is spent when it cannot pay for the smallest call (no max_tokens) any more
    smallest = worst_case_usd(p, p.models[0] if p.models else "", SMALLEST_CALL_ESTIMATE)
    budget = budget_of(p, store, now, smallest)
    default_health = model_records[p.models[0]] if p.models else None
    readings = [
        _key_status(p, k, store, now, settings, record, default_health, budget, to_trip)
        for k in p.keys
    ]
    keys = [k for k, _ in readings]
    verdicts = [v for _, v in readings]
    windows = _sum_windows(keys)
    totals = today.get(p.name)
    status = _provider_word(p, verdicts)
    lat = latency.get(p.name)
    requests_today, tokens_today, day = _own_day(p, windows, totals, store, now)
    return {
        **_configured(p),
        "status": status,
        "reason": _provider_reason(p, status, keys),
        "available_at": _available_at(status, keys, cooldown_until, budget),
        "requests_today": requests_today,
        "today": day,
        "requests_this_minute": windows.get("rpm", {}).get("used", 0),
        "windows": windows,
        "cooldown_until": cooldown_until,
        "cooldown_remaining_s": max(0.0, cooldown_until - now) if cooldown_until else 0.0,
        "circuit": circuit.state.value,
        **_opening(record, circuit.state),
        "models": models,
        "last_error": _last_error(_latest_error(record, *model_records.values())),
        "tokens_today": tokens_today,
        "cost_today_usd": totals.cost_usd if totals else 0.0,
        "budget": _budget(p, budget),
        "latency_ms": round(lat * 1000, 1) if lat is not None else None,
        "keys": keys,
    }


def _budget(p: ProviderSettings, budget: Budget | None) -> dict[str, Any] | None:
    """A paid provider's daily budget as admission counts it (None: no budget): ``used_usd`` is
    the real cost of the calls settled in the budget's ``day`` plus the worst case of those
    still running, ``resets_at`` when that day ends (``day``: ``utc``, a zone or ``rolling``)."""
    if budget is None:
        return None
    return {
        "limit_usd": budget.limit_usd,
        "used_usd": budget.spent_usd,
        "remaining_usd": max(0.0, budget.limit_usd - budget.spent_usd),
        "resets_at": budget.resets_at,
        "day": p.budget_resets,
    }


def _opening(record: HealthRecord | None, state: health.CircuitState) -> dict[str, Any]:
    """When and by what kind of failure a circuit that is not closed was opened (else None)."""
    if record is None or state is health.CircuitState.CLOSED or not record.opened_at:
        return {"opened_at": None, "opened_by": None}
    return {"opened_at": record.opened_at, "opened_by": record.opened_by}


def _model_status(record: HealthRecord | None, now: float, to_trip: int = 1) -> dict[str, Any]:
    """One model's circuit on one provider, flat so a dashboard can show it as a row."""
    circuit = health.assess_circuit(record, now=now, failures_to_trip=to_trip)
    return {
        "circuit": circuit.state.value,
        "cooldown_until": circuit.until if circuit.state is health.CircuitState.OPEN else None,
        "opened_at": _opening(record, circuit.state)["opened_at"],
        "last_error_kind": record.last_error_kind if record else None,
        "last_error_at": record.last_error_at if record else None,
        "last_error_message": record.last_error_message if record else None,
    }


def _configured(p: ProviderSettings) -> dict[str, Any]:
    """What the settings say about a provider, whatever its state.

    Not ``models``: that maps each model id (in configured order) to its circuit, so both
    callers add it with what they could read.
    """
    return {
        "priority": p.priority,
        "rate_limit_per_minute": p.requests_per_minute,
        "rate_limit_per_day": p.tokens_per_day,
        "is_current": False,
        "free": p.free,
        "api": p.api,
        "default_model": p.models[0] if p.models else None,
        "daily_budget_usd": p.daily_budget_usd,
    }


def _provider_word(p: ProviderSettings, keys: list[Availability]) -> str:
    """A provider's status word from its keys' availability (the decision admission takes)."""
    if not p.enabled or not p.keys:
        return "unavailable"
    if any(k.refused_for(Outcome.COOLING_DOWN) for k in keys):  # circuits are the provider's
        return "cooling_down"
    if all(k.refused_for(Outcome.KEY_REFUSED) for k in keys):
        return "auth_failed"
    if any(k.available for k in keys):
        return AVAILABLE
    if any({o for o, _, _ in k.refusals} == {Outcome.BUDGET} for k in keys):
        return "budget_exhausted"
    return "rate_limited"


def _key_status(
    p: ProviderSettings,
    key: Any,
    store: Store,
    now: float,
    settings: Settings,
    provider_health: HealthRecord | None,
    model_health: HealthRecord | None,
    budget: Budget | None,
    failures_to_trip: int,
) -> tuple[dict[str, Any], Availability]:
    """One key's row of the status, and the availability decision it was read from."""
    scope = key_scope(p.name, key.alias)
    reading = read_key(
        p, key.alias, store, now, settings.daily_soft_limit, call_tokens=smallest_call(p, settings)
    )
    block = store.get_block(scope, now=now)
    full = reading.full_window()
    room, until = ("blocked", block.until) if block else full if full else (None, None)
    verdict = decide(
        now=now,
        model=p.models[0] if p.models else "",
        provider_health=provider_health,
        model_health=model_health,
        key_health=store.get_health(scope),
        fingerprint=key.fingerprint,
        failures_to_trip=failures_to_trip,
        budget=budget,
        no_room=room is not None,
        no_room_until=until,
        no_room_reason=room or "",
    )
    if verdict.refused_for(Outcome.KEY_REFUSED):
        status = "auth_failed"
    elif verdict.refused_for(Outcome.NOT_ADMITTED):
        status = "rate_limited"
    else:
        status = AVAILABLE
    reason = _REASONS.get(verdict.refusal, verdict.reason) if verdict.refusal else None
    row = {
        "alias": key.alias,
        "masked": key.masked,
        "status": status,
        "reason": reason,
        "available_at": verdict.until if verdict.refusal else None,
        "blocked_until": block.until if block else None,
        "block_reason": block.reason if block else None,
        "windows": {
            u.name: {
                "limit": u.limit,
                "used": u.used,
                "remaining": u.remaining,
                "resets_at": u.resets_at,
            }
            for u in reading.usage
        },
    }
    return row, verdict


AVAILABLE = "available"  # the seed's word for a provider that can take a call now

#: The reason a key is not taking calls, by the availability decision's refusal.
_REASONS = {
    Outcome.COOLING_DOWN: "cooling_down",
    Outcome.KEY_REFUSED: "auth_failed",
    Outcome.BUDGET: "budget",
}


def _provider_reason(p: ProviderSettings, status: str, keys: list[dict[str, Any]]) -> str | None:
    """Why a provider is not taking calls (None when it is): ``no_key``, ``disabled``,
    ``cooling_down``, ``auth_failed``, ``budget``, or its soonest-freed key's window reason
    (``minute_full``, ``day_soft_limit``, ``day_full``, ``blocked``)."""
    if status == AVAILABLE:
        return None
    if not p.enabled:
        return "disabled"
    if not p.keys:
        return "no_key"
    if status in ("cooling_down", "auth_failed"):
        return status
    if status == "budget_exhausted":
        return "budget"
    waiting = [k for k in keys if k["reason"] is not None]
    soonest = min(waiting, key=lambda k: k["available_at"] or float("inf"), default=None)
    return soonest["reason"] if soonest else status


def _available_at(
    status: str, keys: list[dict[str, Any]], cooldown_until: float | None, budget: Budget | None
) -> float | None:
    """When the provider may take a call again, when known (None: now, or unknown)."""
    if status == AVAILABLE:
        return None
    if status == "cooling_down":
        return cooldown_until
    if status == "budget_exhausted" and budget is not None:
        return budget.resets_at
    times = [k["available_at"] for k in keys if k["available_at"] is not None]
    return min(times) if times else None


def _own_day(
    p: ProviderSettings,
    windows: dict[str, dict[str, Any]],
    totals: Any,
    store: Store,
    now: float,
) -> tuple[int, int, dict[str, str]]:
    """Requests and tokens "today" as the provider counts its day where it declares a daily
    window (``rpd``/``tpd``: a Pacific day for Gemini, UTC for OpenRouter, the last 24 hours
    where rolling), else the ledger's UTC day; which day each counts is returned beside them.

    A provider whose day is declared in tokens only (Gemini publishes no request count) still
    gets its requests counted in that day: a request window of the same day reads the totals
    the store keeps for it (requests beside tokens), so nothing is counted twice.
    """
    own = "last 24h (rolling)" if p.day_resets == "rolling" else p.day_resets
    days = {"requests": "utc", "tokens": "utc"}
    requests = totals.requests if totals else 0
    tokens = (totals.prompt_tokens + totals.completion_tokens) if totals else 0
    if "rpd" in windows:
        requests, days["requests"] = windows["rpd"]["used"], own
    elif "tpd" in windows:
        counted = _requests_in_token_day(p, store, now)
        if counted is not None:
            requests, days["requests"] = counted, own
    if "tpd" in windows:
        tokens, days["tokens"] = windows["tpd"]["used"], own
    return requests, tokens, days


def _requests_in_token_day(p: ProviderSettings, store: Store, now: float) -> int | None:
    """The requests of ``p``'s keys in its token day (None when the store cannot say)."""
    tpd = next((w for w in p.windows() if w.name == "tpd"), None)
    if tpd is None:
        return None
    rpd = make_window("rpd", 1, reset=tpd.reset, guard=p.window_guard_seconds)  # read only
    try:
        return sum(
            u.used for k in p.keys for u in store.usage(key_scope(p.name, k.alias), (rpd,), now=now)
        )
    except StorageError:
        return None


def _sum_windows(keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A provider's windows summed over its keys (each key has its own limits)."""
    out: dict[str, dict[str, Any]] = {}
    for k in keys:
        for name, w in k["windows"].items():
            acc = out.setdefault(name, {"limit": 0, "used": 0, "remaining": 0, "resets_at": None})
            acc["limit"] += w["limit"]
            acc["used"] += w["used"]
            acc["remaining"] += w["remaining"]
            if w["resets_at"] is not None:
                acc["resets_at"] = min(acc["resets_at"] or w["resets_at"], w["resets_at"])
    return out


def _latest_error(*records: HealthRecord | None) -> HealthRecord | None:
    """The record whose error is newest: a provider's last error is the last one of it or of
    any of its models (a 5xx cools the model, yet the provider's row should still show it)."""
    seen = [r for r in records if r is not None and r.last_error_at is not None]
    return max(seen, key=lambda r: r.last_error_at or 0.0, default=None)


def _last_error(record: HealthRecord | None) -> dict[str, Any] | None:
    if record is None or record.last_error_kind is None:
        return None
    return {
        "kind": record.last_error_kind,
        "message": record.last_error_message,
        "time": record.last_error_at,
    }


def build_status(
    settings: Settings, store: Store, now: float, latency: LatencyTracker, current: str | None
) -> dict[str, Any]:
    store_health = store.check()
    day = ledger.utc_day(now)
    try:
        today = ledger.totals_by_provider(store.usage_rows(since_day=day, until_day=day))
    except StorageError:
        today = {}
    providers = {}
    for p in settings.providers:
        try:
            providers[p.name] = provider_status(p, settings, store, now, latency, today)
        except StorageError as exc:
            providers[p.name] = _degraded_status(p, str(exc), now)
    if current in providers:
        providers[current]["is_current"] = True
    spent, saved = _money_today(settings, store, day, today)
    return {
        "current_provider": current,
        "spent_today_usd": spent,
        "savings_today_usd": saved,
        "money_day": "utc",
        "providers": providers,
        "strategy": settings.strategy,
        "time": now,
        "state": {
            "backend": store_health.backend,
            "status": "ok" if store_health.ok else "degraded",
            "ok": store_health.ok,
            "detail": store_health.detail,
            "fail_open": store_health.extra.get("fail_open") == "true",
            **{k: v for k, v in store_health.extra.items() if k in _STATE_DETAILS},
        },
    }


_STATE_DETAILS = ("server", "prefix", "path", "pending_ledger_entries")


def _money_today(
    settings: Settings, store: Store, day: str, today: dict[str, Any]
) -> tuple[float, float]:
    """(spent, saved) in USD over the ledger's UTC day: what paid calls cost, and
    ``savings_usd`` of the free ones."""
    spent = round(sum(t.cost_usd for t in today.values()), 10)
    try:
        rows = store.rollup_rows(since_day=day, until_day=day)
    except StorageError:
        return spent, 0.0
    return spent, savings_usd(settings, rows)


def savings_usd(settings: Settings, rows: list[RollupRow]) -> float:
    """What the free calls in ``rows`` would have cost at their own model's list price (the
    catalog's price of that very model, e.g. Groq's paid tier for ``openai/gpt-oss-120b``); a
    model without a price counts nothing, so the figure never guesses high."""
    by_name = {p.name: p for p in settings.providers}
    saved = 0.0
    for r in rows:
        p = by_name.get(r.provider)
        if p is not None and p.free:
            saved += ledger.cost_usd(Usage(r.prompt_tokens, r.completion_tokens), p.price(r.model))
    return round(saved, 10)


def _degraded_status(p: ProviderSettings, detail: str, now: float) -> dict[str, Any]:
    """The seed's keys for a provider whose state cannot be read: nothing known, not called."""
    return {
        **_configured(p),
        "status": "degraded" if p.enabled and p.keys else "unavailable",
        "reason": "state_unavailable" if p.enabled and p.keys else _provider_reason(p, "", []),
        "available_at": None,
        "requests_today": 0,
        "today": {"requests": "utc", "tokens": "utc"},
        "budget": None,
        "requests_this_minute": 0,
        "windows": {},
        "cooldown_until": None,
        "cooldown_remaining_s": 0.0,
        "circuit": "unknown",
        "opened_at": None,
        "opened_by": None,
        "models": {m: _unknown_model() for m in (*p.models, *p.embedding_models)},
        "last_error": {"kind": "state_unavailable", "message": detail, "time": now},
        "tokens_today": 0,
        "cost_today_usd": 0.0,
        "latency_ms": None,
        "keys": [
            {"alias": k.alias, "masked": k.masked, "status": "degraded", "windows": {}}
            for k in p.keys
        ],
    }


def _unknown_model() -> dict[str, Any]:
    """A model whose circuit cannot be read: the same keys as ``_model_status``, nothing known."""
    return {
        "circuit": "unknown",
        "cooldown_until": None,
        "opened_at": None,
        "last_error_kind": None,
        "last_error_at": None,
        "last_error_message": None,
    }
