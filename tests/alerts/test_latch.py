"""The pure parts: which thresholds a window passed, and the latch that announces each once."""

from __future__ import annotations

import pytest

from llmswitch._alerts import ThresholdLatch, passed_thresholds

T = (0.8, 0.95)


@pytest.mark.parametrize(
    ("used", "limit", "cap", "passed"),
    [
        (79, 100, None, []),
        (80, 100, None, [0.8]),
        (95, 100, None, [0.8, 0.95]),
        (949, 1000, None, [0.8]),
        (950, 1001, 950, [0.8, 0.95]),  # as full as admission allows (0.95 soft limit, floored)
        (5, 0, None, []),  # a window turned off
        (0.8e-4, 1e-4, None, [0.8]),  # USD of a budget
    ],
)
def test_passed_thresholds(
    used: float, limit: float, cap: float | None, passed: list[float]
) -> None:
    assert passed_thresholds(T, used, limit, cap=cap) == passed


def test_a_day_latch_fires_once_per_crossing_and_only_the_highest() -> None:
    latch = ThresholdLatch()
    assert [latch.observe(p, now=t) for t, p in enumerate([[], [0.8], [0.8], [0.8, 0.95]])] == [
        None, 0.8, None, 0.95,
    ]  # fmt: skip
    assert latch.observe([0.8], now=5) is None  # down to 80%: 95% re-armed, 80% still latched
    assert latch.observe([0.8, 0.95], now=6) == 0.95
    assert latch.observe([], now=7) is None
    assert latch.observe([0.8, 0.95], now=8) == 0.95  # a jump past both: one alert, the highest
    assert latch.observe([0.8], now=9) is None


def test_a_sustained_latch_waits_and_restarts_its_wait_after_a_dip() -> None:
    latch = ThresholdLatch(sustain=60.0)
    assert latch.observe([0.8], now=0) is None
    assert latch.observe([0.8], now=59) is None
    assert latch.observe([], now=59.5) is None  # a dip: the wait starts over
    assert latch.observe([0.8], now=60) is None
    assert latch.observe([0.8], now=119) is None
    assert latch.observe([0.8], now=120) == 0.8
    assert latch.observe([0.8], now=500) is None


def test_the_readme_names_every_alert_kind() -> None:
    from pathlib import Path

    from llmswitch._alerts import ALERT_KINDS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert [k for k in ALERT_KINDS if f"`{k}`" not in readme] == []
