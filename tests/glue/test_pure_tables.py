"""Decision tables for the pure functions of ``strategies`` and ``quota`` that had none."""

from __future__ import annotations

from datetime import datetime

import pytest

from llmswitch._errors import ConfigError
from llmswitch._quota import (
    DAY,
    MINUTE,
    LimitObservation,
    Window,
    WindowUsage,
    admission_windows,
    block_from_observations,
    day_start,
    learned_limits,
    make_window,
    next_day_start,
    parse_duration,
    provider_windows,
    zone,
)
from llmswitch._strategies import LatencyTracker, ProviderView, WeightedRotation, order


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# -- quota.parse_duration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2m59.56s", 179.56),
        ("940ms", 0.94),
        ("1h2m3s", 3723.0),
        ("7.66s", 7.66),
        ("30", 30.0),
        (" 12.5 ", 12.5),
        ("0s", 0.0),
        ("1m", 60.0),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("2m 3s", None),  # a gap is not a duration
        ("3s2", None),  # trailing garbage
        ("x3s", None),  # leading garbage
        ("5d", None),  # no day unit
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    got = parse_duration(text)
    assert got == (pytest.approx(seconds) if seconds is not None else None)


# -- quota.make_window / admission_windows ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit", "reset", "guard", "window"),
    [
        ("rpm", 30, "rolling", 0.5, Window("rpm", "requests", MINUTE + 0.5, 30)),
        ("tpm", 8000, "utc", 0.5, Window("tpm", "tokens", MINUTE + 0.5, 8000)),  # minutes slide
        ("rpd", 1000, "rolling", 0.5, Window("rpd", "requests", DAY + 0.5, 1000)),
        ("tpd", 9, "utc", 0.5, Window("tpd", "tokens", DAY, 9, "utc")),  # calendar: no guard
        (
            "rpd",
            5,
            "America/Los_Angeles",
            2.0,
            Window("rpd", "requests", DAY, 5, "America/Los_Angeles"),
        ),
    ],
)
def test_make_window(name: str, limit: int, reset: str, guard: float, window: Window) -> None:
    assert make_window(name, limit, reset=reset, guard=guard) == window


def test_make_window_defaults_roll_without_a_guard() -> None:
    assert make_window("rpd", 5) == Window("rpd", "requests", DAY, 5)
    assert make_window("tpm", 9) == Window("tpm", "tokens", MINUTE, 9)


RPM = Window("rpm", "requests", MINUTE, 30)
RPD = Window("rpd", "requests", DAY, 1000)
TPD = Window("tpd", "tokens", DAY, 7, "utc")
OFF = Window("tpm", "tokens", MINUTE, 0)


@pytest.mark.parametrize(
    ("windows", "soft", "limits"),
    [
        ((RPM, RPD), 0.95, {"rpm": 30, "rpd": 950}),  # minute windows are never capped
        ((RPM, RPD), 1.0, {"rpm": 30, "rpd": 1000}),
        ((RPD, TPD), 0.5, {"rpd": 500, "tpd": 3}),  # rounds down
        ((TPD,), 0.01, {"tpd": 1}),  # never below one
        ((OFF, RPM), 0.5, {"rpm": 30}),  # a window at 0 is off, dropped
        ((), 0.5, {}),
    ],
)
def test_admission_windows(
    windows: tuple[Window, ...], soft: float, limits: dict[str, int]
) -> None:
    got = admission_windows(windows, soft)
    assert {w.name: w.limit for w in got} == limits
    assert all(g.period == next(w for w in windows if w.name == g.name).period for g in got)


# -- quota: day boundaries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "zone_name", "start", "end"),
    [
        (
            "2026-05-28T20:26:40.75+00:00",  # a fraction of a second is cut too
            "utc",
            "2026-05-28T00:00:00+00:00",
            "2026-05-29T00:00:00+00:00",
        ),
        (
            "2026-05-28T20:26:40+00:00",
            "utc",
            "2026-05-28T00:00:00+00:00",
            "2026-05-29T00:00:00+00:00",
        ),
        (
            "2026-05-28T00:00:00+00:00",
            "UTC",
            "2026-05-28T00:00:00+00:00",
            "2026-05-29T00:00:00+00:00",
        ),
        # 03:00 UTC is still the previous evening in Los Angeles (PDT, UTC-7)
        (
            "2026-05-28T03:00:00+00:00",
            "America/Los_Angeles",
            "2026-05-27T00:00:00-07:00",
            "2026-05-28T00:00:00-07:00",
        ),
        # the spring-forward day has 23 hours, the fall-back day 25
        (
            "2026-03-08T12:00:00-07:00",
            "America/Los_Angeles",
            "2026-03-08T00:00:00-08:00",
            "2026-03-09T00:00:00-07:00",
        ),
        (
            "2026-11-01T12:00:00-08:00",
            "America/Los_Angeles",
            "2026-11-01T00:00:00-07:00",
            "2026-11-02T00:00:00-08:00",
        ),
    ],
)
def test_day_start_and_next_day_start(now: str, zone_name: str, start: str, end: str) -> None:
    assert day_start(ts(now), zone_name) == ts(start)
    assert next_day_start(ts(now), zone_name) == ts(end)


def test_an_unknown_zone_names_the_valid_forms() -> None:
    with pytest.raises(ConfigError, match="'utc', 'rolling' or an IANA"):
        zone("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("window", "now", "start"),
    [
        (RPM, 1000.0, 940.0),
        (RPD, 100_000.0, 100_000.0 - DAY),
        (TPD, ts("2026-05-28T20:00:00+00:00"), ts("2026-05-28T00:00:00+00:00")),
    ],
)
def test_period_start(window: Window, now: float, start: float) -> None:
    assert window.period_start(now) == start


def test_calendar_reset_is_the_next_midnight_and_rolling_windows_have_none() -> None:
    now = ts("2026-05-28T20:00:00+00:00")
    assert TPD.calendar_reset(now) == ts("2026-05-29T00:00:00+00:00")
    with pytest.raises(ValueError, match="rolling"):
        RPM.calendar_reset(now)


@pytest.mark.parametrize(
    ("limit", "used", "remaining", "fraction"),
    [(10, 0, 10, 0.0), (10, 4, 6, 0.4), (10, 10, 0, 1.0), (10, 12, 0, 1.2), (0, 5, 0, 0.0)],
)
def test_window_usage(limit: int, used: int, remaining: int, fraction: float) -> None:
    usage = WindowUsage("rpm", limit, used, None)
    assert (usage.remaining, usage.fraction_used) == (remaining, pytest.approx(fraction))


# -- quota: what the provider told us -------------------------------------------------------------


@pytest.mark.parametrize(
    ("observations", "current", "changed"),
    [
        ([LimitObservation("rpm", limit=20)], {"rpm": 30}, {"rpm": 20}),
        ([LimitObservation("rpm", limit=30)], {"rpm": 30}, {}),  # nothing new
        ([LimitObservation("rpd", limit=50)], {}, {"rpd": 50}),  # a limit we did not know
        ([LimitObservation("tpm", limit=0)], {"tpm": 6000}, {}),  # 0 means unknown
        ([LimitObservation("rpm", limit=1)], {"rpm": 30}, {"rpm": 1}),
        ([LimitObservation("tpm", remaining=5)], {"tpm": 6000}, {}),  # no limit announced
        (
            [LimitObservation("rpm", limit=20), LimitObservation("tpd", limit=100)],
            {"rpm": 20, "tpd": 500},
            {"tpd": 100},
        ),
    ],
)
def test_learned_limits(
    observations: list[LimitObservation], current: dict[str, int], changed: dict[str, int]
) -> None:
    assert learned_limits(observations, current) == changed


@pytest.mark.parametrize(
    ("observations", "min_tokens", "block"),
    [
        ([LimitObservation("rpm", remaining=0, reset_after=7.0)], 1, (107.0, "rpm")),
        ([LimitObservation("rpm", remaining=1, reset_after=7.0)], 1, None),
        ([LimitObservation("rpm", remaining=0)], 1, None),  # no reset: cannot say until when
        ([LimitObservation("tpm", remaining=99, reset_after=3.0)], 100, (103.0, "tpm")),
        ([LimitObservation("tpm", remaining=100, reset_after=3.0)], 100, None),
        ([LimitObservation("tpd", remaining=0, reset_after=50.0)], 1, (150.0, "tpd")),
        (  # the latest reset of the spent windows wins
            [
                LimitObservation("rpm", remaining=0, reset_after=7.0),
                LimitObservation("rpd", remaining=0, reset_after=900.0),
                LimitObservation("tpm", remaining=0, reset_after=30.0),
            ],
            1,
            (1000.0, "rpd"),
        ),
        (  # a tie keeps the first window named
            [
                LimitObservation("rpm", remaining=0, reset_after=7.0),
                LimitObservation("tpm", remaining=0, reset_after=7.0),
            ],
            1,
            (107.0, "rpm"),
        ),
        (  # an observation without a reset does not hide the ones after it
            [
                LimitObservation("rpm", remaining=0),
                LimitObservation("tpd", remaining=0, reset_after=50),
            ],
            1,
            (150.0, "tpd"),
        ),
        # min_tokens is about tokens: 5 requests left is room, whatever min_tokens says
        ([LimitObservation("rpd", remaining=5, reset_after=7.0)], 100, None),
        ([], 1, None),
    ],
)
def test_block_from_observations(
    observations: list[LimitObservation], min_tokens: int, block: tuple[float, str] | None
) -> None:
    assert block_from_observations(observations, now=100.0, min_tokens=min_tokens) == block


def test_block_from_observations_needs_one_token_by_default() -> None:
    one_left = [LimitObservation("tpm", remaining=1, reset_after=3.0)]
    assert block_from_observations(one_left, now=100.0) is None
    none_left = [LimitObservation("tpm", remaining=0, reset_after=3.0)]
    assert block_from_observations(none_left, now=100.0) == (103.0, "tpm")


@pytest.mark.parametrize(
    ("learned", "limits"),
    [
        ({}, {"rpm": 30, "rpd": 1000}),
        ({"rpm": 20}, {"rpm": 20, "rpd": 1000}),  # the provider announced less: it wins
        ({"rpm": 50}, {"rpm": 30, "rpd": 1000}),  # more than configured: the file wins
        ({"rpm": 0, "rpd": 1}, {"rpm": 30, "rpd": 1}),  # 0 means unknown
        ({"tpd": 5}, {"rpm": 30, "rpd": 1000, "tpd": 5}),  # nothing configured: it is adopted
    ],
)
def test_provider_windows_lower_and_fill_in(
    learned: dict[str, int], limits: dict[str, int]
) -> None:
    got = provider_windows((RPM, RPD), learned)
    assert {w.name: w.limit for w in got} == limits


# -- strategies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "mean"),
    [
        ([], None),
        ([1.0], 1.0),
        ([1.0, 2.0], 1.3),  # 1 + 0.3 * (2 - 1)
        ([1.0, 2.0, 0.0], 0.91),  # 1.3 + 0.3 * (0 - 1.3)
    ],
)
def test_latency_tracker_is_an_exponential_mean(samples: list[float], mean: float | None) -> None:
    tracker = LatencyTracker()
    for s in samples:
        tracker.observe("groq", s)
    assert tracker.get("groq") == (pytest.approx(mean) if mean is not None else None)
    assert tracker.get("gemini") is None
    assert tracker.snapshot() == ({"groq": pytest.approx(mean)} if samples else {})


def _views(**weights: float) -> list[ProviderView]:
    return [ProviderView(n, i + 1, True, weight=w) for i, (n, w) in enumerate(weights.items())]


@pytest.mark.parametrize(
    ("weights", "firsts"),
    [
        ({"a": 5, "b": 1, "c": 1}, "aabacaa"),  # the docstring's example (nginx's order)
        ({"a": 1, "b": 1}, "abab"),
        ({"a": 2, "b": 1, "c": 1}, "abcaabca"),
        ({"a": 1, "b": 3}, "babbbabb"),
        ({"a": 0, "b": 1}, "bbb"),
        ({"a": 0, "b": 0}, "aaa"),  # all weights 0: priority
        ({"a": -3, "b": 1}, "bbb"),  # a negative weight counts as 0
    ],
)
def test_weighted_rotation_sequence(weights: dict[str, float], firsts: str) -> None:
    rotation = WeightedRotation()
    views = _views(**weights)
    assert "".join(rotation.next_first(views) or "-" for _ in firsts) == firsts


def test_weighted_rotation_of_nothing_is_nothing() -> None:
    assert WeightedRotation().next_first([]) is None
    assert order("weighted", []) == []


@pytest.mark.parametrize(
    ("strategy", "views", "expected"),
    [
        # ties break by priority, whatever order the views come in
        ("headroom", [ProviderView("b", 2, True), ProviderView("a", 1, True)], ["a", "b"]),
        ("cheapest", [ProviderView("b", 2, True), ProviderView("a", 1, True)], ["a", "b"]),
        (
            "fastest",
            [ProviderView("b", 2, True, latency_s=0.5), ProviderView("a", 1, True, latency_s=0.5)],
            ["a", "b"],
        ),
        # paid providers go last even when better on the strategy's own measure
        (
            "headroom",
            [ProviderView("p", 1, False, headroom=1.0), ProviderView("f", 2, True, headroom=0.1)],
            ["f", "p"],
        ),
        (
            "fastest",
            [ProviderView("p", 1, False, latency_s=0.01), ProviderView("f", 2, True, latency_s=9)],
            ["f", "p"],
        ),
        # weighted with only paid providers rotates among them; with free ones leads with free
        ("weighted", [ProviderView("p", 1, False), ProviderView("q", 2, False)], ["p", "q"]),
        (
            "weighted",
            [ProviderView("p", 1, False, weight=9), ProviderView("f", 2, True)],
            ["f", "p"],
        ),
        ("priority", [ProviderView("b", 2, True), ProviderView("a", 1, False)], ["b", "a"]),
    ],
)
def test_order_edges(strategy: str, views: list[ProviderView], expected: list[str]) -> None:
    assert order(strategy, views) == expected


def test_weighted_over_paid_only_rotates_them() -> None:
    rotation = WeightedRotation()
    views = [ProviderView("p", 1, False), ProviderView("q", 2, False)]
    assert [order("weighted", views, rotation=rotation)[0] for _ in range(4)] == list("pqpq")
