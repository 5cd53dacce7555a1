"""Every routing strategy through a real manager and the simulator: who serves each call.

Rows are settings plus a number of calls in a row; the expected column is the provider that
served each call, as ``ChatResult.provider`` tells the caller. Groq, Gemini and OpenRouter are
free; Together and OpenAI are paid, so no strategy leads with them while a free one can serve.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch._clock import FakeClock
from tests.glue.conftest import GlueFactory, keys_for, served_by

FREE = ("groq", "gemini", "openrouter")
ALL = (*FREE, "together", "openai")
G, GE, OR, TO, OA = "groq", "gemini", "openrouter", "together", "openai"


@pytest.mark.parametrize(
    ("providers", "keyed", "expected"),
    [
        pytest.param({}, ALL, [G, G, G, G], id="groq-has-priority-1"),
        pytest.param({"groq": {"priority": 9}}, ALL, [GE, GE, GE], id="priority-moved"),
        pytest.param({}, ("together", "openai"), [TO, TO], id="paid-only-by-priority"),
        pytest.param({"openai": {"priority": 1}}, ("groq", "openai"), [G, G], id="free-first"),
    ],
)
def test_priority(
    glue: GlueFactory, providers: dict[str, Any], keyed: tuple[str, ...], expected: list[str]
) -> None:
    llm = glue(keys=keys_for(*keyed), providers=providers)
    assert served_by(llm, len(expected)) == expected


@pytest.mark.parametrize(
    ("providers", "keyed", "expected"),
    [
        pytest.param({}, ALL, [OR, OR, OR], id="the-free-model-costs-nothing"),
        pytest.param({}, ("groq", "gemini"), [G, G], id="groq-cheaper-than-gemini"),
        pytest.param({}, ("together", "openai"), [OA, OA], id="openai-cheaper-than-together"),
        pytest.param({}, ("groq", "openai"), [G, G], id="free-before-cheaper-paid"),
    ],
)
def test_cheapest(
    glue: GlueFactory, providers: dict[str, Any], keyed: tuple[str, ...], expected: list[str]
) -> None:
    llm = glue(keys=keys_for(*keyed), providers=providers, extra='strategy = "cheapest"')
    assert served_by(llm, len(expected)) == expected


@pytest.mark.parametrize(
    ("weights", "keyed", "expected"),
    [
        # Smooth weighted round robin over 2:1:1 leads with groq twice per four calls.
        pytest.param({G: 2, GE: 1, OR: 1}, ALL, [G, GE, OR, G, G, GE, OR, G], id="2-1-1"),
        pytest.param({G: 1, GE: 1, OR: 0}, ALL, [G, GE, G, GE, G, GE], id="weight-0-never-leads"),
        pytest.param({G: 1, GE: 3}, (G, GE), [GE, G, GE, GE, GE, G, GE, GE], id="1-3"),
        pytest.param({G: 1, TO: 50}, (G, TO), [G, G, G], id="paid-never-leads"),
    ],
)
def test_weighted_rotation_spreads_calls_across_calls(
    glue: GlueFactory, weights: dict[str, float], keyed: tuple[str, ...], expected: list[str]
) -> None:
    providers = {name: {"weight": w} for name, w in weights.items()}
    llm = glue(keys=keys_for(*keyed), providers=providers, extra='strategy = "weighted"')
    assert served_by(llm, len(expected)) == expected


def _only_rpm(rpm: int) -> dict[str, Any]:
    """Only a per-minute request window, so headroom is exactly 1 - used/rpm (the provider's
    rate-limit headers are not read: a limit they announce would become a window of its own)."""
    return {
        "requests_per_minute": rpm,
        "requests_per_day": 0,
        "tokens_per_minute": 0,
        "tokens_per_day": 0,
        "limit_headers": "none",
    }


@pytest.mark.parametrize(
    ("rpm", "expected"),
    [
        # Equal windows: whoever has more room left leads; ties go by priority.
        pytest.param({G: 10, GE: 10}, [G, GE, G, GE, G, GE], id="equal-windows-alternate"),
        # Twice the window, twice the calls: g 1.0=ge 1.0, .9<1.0, .9<.95, .9=.9, ...
        pytest.param({G: 10, GE: 20}, [G, GE, GE, G, GE, GE, G], id="twice-the-room"),
        pytest.param({G: 2, GE: 20}, [G, GE, GE, GE, GE, GE, GE], id="small-window-left-early"),
    ],
)
def test_headroom_sends_calls_where_most_room_is_left(
    glue: GlueFactory, rpm: dict[str, int], expected: list[str]
) -> None:
    providers = {name: _only_rpm(limit) for name, limit in rpm.items()}
    llm = glue(keys=keys_for(G, GE), providers=providers, extra='strategy = "headroom"')
    assert served_by(llm, len(expected)) == expected


def test_headroom_comes_back_when_the_minute_frees(glue: GlueFactory, clock: FakeClock) -> None:
    providers = {G: _only_rpm(10), GE: _only_rpm(10)}
    llm = glue(keys=keys_for(G, GE), providers=providers, extra='strategy = "headroom"')
    assert served_by(llm, 3) == [G, GE, G]  # groq .8, gemini .9
    clock.advance(61.0)  # both minutes empty again: a tie, so priority
    assert served_by(llm, 2) == [G, GE]


def test_fastest_measures_every_free_provider_then_avoids_the_slow_one(
    glue: GlueFactory, sim: Any
) -> None:
    # Latency is real time (perf_counter): groq answers 0.3 s late, the others at once.
    sim.set_fault(G, {"kind": "slow_first_token", "seconds": 0.3})
    llm = glue(keys=keys_for(*ALL), extra='strategy = "fastest"')
    measured = served_by(llm, 3)
    assert measured == [G, GE, OR], "untried providers first, in priority order"
    later = served_by(llm, 4)
    assert G not in later, f"groq measured slowest, yet served: {later}"
    assert set(later) <= {GE, OR}
