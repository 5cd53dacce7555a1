"""Candidate ordering: each strategy puts the provider a user would expect first."""

from __future__ import annotations

import collections

import pytest

from llmswitch._errors import ConfigError
from llmswitch._strategies import ProviderView, WeightedRotation, order

VIEWS = [
    ProviderView("groq", 1, True, weight=5, price_per_mtok=0.75, latency_s=0.9, headroom=0.1),
    ProviderView("gemini", 2, True, weight=1, price_per_mtok=4.5, latency_s=0.2, headroom=0.8),
    ProviderView("together", 4, True, weight=1, price_per_mtok=1.76, latency_s=None, headroom=0.5),
    ProviderView("openai", 5, False, weight=9, price_per_mtok=0.1, latency_s=0.05, headroom=1.0),
]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("priority", ["groq", "gemini", "together", "openai"]),
        ("headroom", ["gemini", "together", "groq", "openai"]),
        ("cheapest", ["groq", "together", "gemini", "openai"]),
        ("fastest", ["together", "gemini", "groq", "openai"]),  # untried first, to measure it
    ],
)
def test_each_strategy_orders_free_providers_before_paid(
    strategy: str, expected: list[str]
) -> None:
    assert order(strategy, VIEWS) == expected


def test_weighted_rotation_spreads_firsts_by_weight_and_never_leads_with_paid() -> None:
    rotation = WeightedRotation()
    firsts = collections.Counter(order("weighted", VIEWS, rotation=rotation)[0] for _ in range(70))
    assert firsts == {"groq": 50, "gemini": 10, "together": 10}


def test_an_unknown_strategy_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="priority, weighted, headroom, cheapest, fastest"):
        order("random", VIEWS)
