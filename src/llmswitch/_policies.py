"""Each provider's breaker and retry policies, built once from the settings, and its budget.

The budget is a claim admission takes in the store with the key's windows (``budget_claim``) and
a reading for the reports (``budget_of``), both over one window of micro-dollars per budget day
(``budget_resets``) on the provider's budget scope.

A provider's own settings win over the global ones. Settings are frozen and admission asks on
every call, so each policy is built the first time it is asked for and kept.
"""

from __future__ import annotations

from typing import TypeVar

from llmswitch import _health as health
from llmswitch import _ledger as ledger
from llmswitch._availability import Budget
from llmswitch._config import ProviderSettings, Settings
from llmswitch._quota import (
    DAY,
    MICRO,
    BudgetClaim,
    budget_scope,
    budget_window,
    micro_usd,
    next_day_start,
)
from llmswitch._state.base import WindowStore
from llmswitch._types import Usage

T = TypeVar("T")


class ProviderPolicies:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._breakers: dict[str, health.BreakerPolicy] = {}
        self._retry_policies: dict[str, health.RetryPolicy] = {}

    def breaker(self, p: ProviderSettings) -> health.BreakerPolicy:
        """When the provider's circuits open, for how long, and when they are probed."""
        policy = self._breakers.get(p.name)
        if policy is None:
            g = self.settings
            policy = self._breakers[p.name] = health.BreakerPolicy(
                cooldown_seconds=_pick(p.cooldown_seconds, g.cooldown_seconds),
                probe_after_seconds=_pick(p.probe_after_seconds, g.probe_after_seconds),
                failures_to_trip=_pick(p.failures_to_trip, g.failures_to_trip),
            )
        return policy

    def retry_policy(self, p: ProviderSettings) -> health.RetryPolicy:
        """How often, and after what backoff, a failed attempt is retried on the same target."""
        policy = self._retry_policies.get(p.name)
        if policy is None:
            g = self.settings
            policy = self._retry_policies[p.name] = health.RetryPolicy(
                retries=_pick(p.retries, g.retries),
                backoff_seconds=g.retry_backoff_seconds,
                retry_after_max_seconds=g.retry_after_max_seconds,
                retry_timeouts=g.retry_timeouts,
            )
        return policy


def _pick(own: T | None, default: T) -> T:
    return default if own is None else own


def budget_claim(p: ProviderSettings, worst_usd: float) -> BudgetClaim | None:
    """What a call to ``p`` holds of its daily budget while it runs (None: no budget applies).

    The store takes the claim with the key's windows in one atomic step, so concurrent callers
    (threads, processes, machines on one Redis) never spend the same last dollars twice.
    """
    if p.free or p.daily_budget_usd <= 0:
        return None
    window = budget_window(p.daily_budget_usd, p.budget_resets)
    return BudgetClaim(budget_scope(p.name), window, micro_usd(worst_usd))


def budget_of(
    p: ProviderSettings, store: WindowStore, now: float, worst_usd: float = 0.0
) -> Budget | None:
    """The provider's daily budget as of ``now``, for reports (None: free, or no budget set).

    ``spent_usd`` is what the store's budget window holds: the real cost of the calls settled in
    the budget's day plus the worst cases of those still running, the very count admission
    reserves against. ``resets_at`` is when that day ends (rolling: when the oldest call in it
    slides out, or a day from now when it is empty).
    """
    if p.free or p.daily_budget_usd <= 0:
        return None
    window = budget_window(p.daily_budget_usd, p.budget_resets)
    (usage,) = store.usage(budget_scope(p.name), [window], now=now)
    if window.rolling:
        resets_at = usage.resets_at if usage.resets_at is not None else now + DAY
    else:
        resets_at = next_day_start(now, window.reset)
    return Budget(
        limit_usd=window.limit / MICRO,
        spent_usd=usage.used / MICRO,
        resets_at=resets_at,
        worst_usd=micro_usd(worst_usd) / MICRO,
    )


def worst_case_usd(
    p: ProviderSettings, model: str, estimate: int, *, prompt_tokens: int | None = None
) -> float:
    """The most a call of ``estimate`` tokens may cost on ``p`` (what its budget must cover).

    ``prompt_tokens`` of the estimate are priced at the input price and the rest (the completion
    the call may produce) at the output price. Without the split, every token is priced at the
    dearer of the two: a bound that may refuse a call that would fit, never one that overshoots.
    """
    if p.free:
        return 0.0
    price_in, price_out = p.price(model)
    if prompt_tokens is None:
        return ledger.cost_usd(Usage(0, estimate), (0.0, max(price_in, price_out)))
    prompt = min(max(0, prompt_tokens), estimate)
    return ledger.cost_usd(Usage(prompt, estimate - prompt), (price_in, price_out))
