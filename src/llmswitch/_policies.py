"""Each provider's breaker and retry policies, built once from the settings, and its budget.

A provider's own settings win over the global ones. Settings are frozen and admission asks on
every call, so each policy is built the first time it is asked for and kept.
"""

from __future__ import annotations

from typing import TypeVar

from llmswitch import _health as health
from llmswitch import _ledger as ledger
from llmswitch._availability import Budget
from llmswitch._config import ProviderSettings, Settings
from llmswitch._quota import next_day_start
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


def budget_of(
    p: ProviderSettings, store: ledger.UsageSource, now: float, worst_usd: float = 0.0
) -> Budget | None:
    """The provider's daily budget as of ``now`` (None: free, or no budget set)."""
    if p.free or p.daily_budget_usd <= 0:
        return None
    return Budget(
        limit_usd=p.daily_budget_usd,
        spent_usd=ledger.spent_today(store, p.name, now),
        resets_at=next_day_start(now, "utc"),
        worst_usd=worst_usd,
    )


def worst_case_usd(p: ProviderSettings, model: str, estimate: int) -> float:
    """The most a call of ``estimate`` tokens may cost on ``p`` (what its budget must cover)."""
    if p.free:
        return 0.0
    return ledger.cost_usd(Usage(estimate, 0), p.price(model))
