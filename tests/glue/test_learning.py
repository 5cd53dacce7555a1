"""Learning limits nobody configured: a limit a provider states in its headers or only in its
429 message becomes the key's window (a custom provider, Groq's per-minute limit), so a 429 is
met once, not every minute. Pure tables for the two readers, then Groq through the simulator
with every window of its catalog entry turned off."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._quota import LimitObservation, make_window, provider_windows
from llmswitch._wire.limit_messages import limits_in_message
from tests.conftest import sent_429
from tests.glue.conftest import GlueFactory, ask, keys_for

GROQ_RPM = (
    "Rate limit reached for model `openai/gpt-oss-20b` in organization `org_x` service tier "
    "`on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again "
    "in 2s."
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (GROQ_RPM, [LimitObservation("rpm", limit=30, remaining=0)]),
        (
            "... on tokens per minute (TPM): Limit 8000, Used 5536, Requested 5599. Please try",
            [LimitObservation("tpm", limit=8000, remaining=2464)],
        ),
        (
            "... on requests per day (RPD): Limit 1000, Used 1000, Requested 1.",
            [LimitObservation("rpd", limit=1000, remaining=0)],
        ),
        # OpenAI's wording; a 413 names the limit without what was used
        (
            "... on tokens per min (TPM): Limit 200000, Used 195869, Requested 4412.",
            [LimitObservation("tpm", limit=200000, remaining=4131)],
        ),
        (
            "Request too large ... on tokens per minute (TPM): Limit 8000, Requested 9000, please",
            [LimitObservation("tpm", limit=8000)],
        ),
        ("Internal server error", []),
    ],
)
def test_limits_stated_in_a_message(message: str, expected: list[LimitObservation]) -> None:
    assert limits_in_message(message) == expected


RPM30 = make_window("rpm", 30)


@pytest.mark.parametrize(
    ("declared", "learned", "expected"),
    [
        ((RPM30,), {"rpm": 20}, {"rpm": 20}),  # a lower announced limit tightens
        ((RPM30,), {"rpm": 50}, {"rpm": 30}),  # never loosens what the file set
        ((), {"rpm": 20}, {"rpm": 20}),  # nothing configured: the announced limit is the window
        ((), {"rpd": 1000, "tpm": 0}, {"rpd": 1000}),  # 0 says nothing
        ((), {"x-unknown": 5}, {}),
    ],
)
def test_learned_limits_tighten_and_fill_in(
    declared: tuple[Any, ...], learned: dict[str, int], expected: dict[str, int]
) -> None:
    windows = provider_windows(declared, learned, day_reset="America/Los_Angeles")
    assert {w.name: w.limit for w in windows} == expected
    for w in windows:
        if w.name == "rpd":
            assert w.reset == "America/Los_Angeles", "a daily window follows the provider's day"


OFF = {
    name: 0
    for name in ("requests_per_minute", "requests_per_day", "tokens_per_minute", "tokens_per_day")
}


def test_a_limit_stated_only_in_a_429_becomes_the_window(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": OFF})
    for minute in range(3):
        served = [ask(llm, f"m{minute} c{i}").provider for i in range(40)]
        assert served.count("groq") == 30, minute
        clock.advance(61)
    assert sent_429(sim, "groq") == 1, "the first 429 taught the limit; no more after it"
