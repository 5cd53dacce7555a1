"""A 5xx's ``Retry-After`` sets how long the model stays out, instead of ``cooldown_seconds``.

The simulator answers groq's next request with a 503 (carrying ``Retry-After`` when the row says
so); the call fails over to gemini. Then the clock moves: one second before the expected end of
the cooldown groq still gets nothing, one second after it serves again.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from llmswitch._clock import FakeClock
from tests.glue.conftest import GlueFactory, ask, keys_for


@pytest.mark.parametrize(
    ("retry_after", "groq", "cooldown"),
    [
        pytest.param(30, {}, 30, id="retry-after-30-not-300"),
        pytest.param(None, {}, 300, id="no-retry-after-default-300"),
        pytest.param(600, {}, 600, id="longer-than-default-honoured"),
        pytest.param(None, {"cooldown_seconds": 60}, 60, id="provider-cooldown"),
        pytest.param(30, {"cooldown_seconds": 120}, 30, id="retry-after-beats-provider-cooldown"),
    ],
)
def test_a_5xx_cools_the_model_for_its_retry_after(
    glue: GlueFactory,
    sim: Any,
    clock: FakeClock,
    retry_after: int | None,
    groq: dict[str, Any],
    cooldown: float,
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": groq})
    fault: dict[str, Any] = {"kind": "status", "status": 503, "count": 1}
    if retry_after is not None:
        fault["retry_after"] = retry_after
    sim.set_fault("groq", fault)
    failed = ask(llm, "the 503")
    assert failed.provider == "gemini"
    assert [a.outcome for a in failed.attempts] == ["server_error", "ok"]
    sent = len(sim.requests("groq"))
    clock.advance(cooldown - 1)
    assert ask(llm).provider == "gemini", "still cooling down"
    assert len(sim.requests("groq")) == sent, "groq got a request while cooling down"
    clock.advance(2)
    assert ask(llm).provider == "groq", "the cooldown is over"


def test_a_short_retry_after_is_waited_out_on_the_same_provider_when_retries_allow(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), extra="retries = 1")
    sim.set_fault("groq", {"kind": "status", "status": 503, "retry_after": 3, "count": 1})
    result = ask(llm)
    assert result.provider == "groq"
    assert [a.outcome for a in result.attempts] == ["server_error", "ok"]
    assert clock.sleeps == [3.0], "the retry waited the provider's Retry-After, on the clock"


def test_a_long_retry_after_fails_over_at_once_even_with_retries(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    llm = glue(keys=keys_for("groq", "gemini"), extra="retries = 1")
    sim.set_fault("groq", {"kind": "status", "status": 503, "retry_after": 30, "count": 1})
    result = ask(llm)
    assert result.provider == "gemini"
    assert clock.sleeps == []
    clock.advance(31)
    assert ask(llm).provider == "groq"


@pytest.mark.parametrize(
    ("fault", "header"),
    [
        ({"kind": "status", "status": 503, "retry_after": 30}, "30"),
        ({"kind": "status", "status": 500, "retry_after": 0.2}, "1"),  # whole seconds, never 0
        ({"kind": "error_rate", "status": 502, "retry_after": 7}, "7"),
        ({"kind": "status", "status": 503}, None),
    ],
)
def test_the_simulator_sends_retry_after_on_a_5xx_only_when_the_fault_says(
    sim: Any, fault: dict[str, Any], header: str | None
) -> None:
    sim.set_fault("groq", fault)
    reply = httpx.post(
        sim.provider_base_url("groq").rstrip("/") + "/chat/completions",
        headers={"authorization": "Bearer gsk_test_groq_key_0001"},
        json={"model": "openai/gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert reply.status_code == fault["status"]
    assert reply.headers.get("retry-after") == header
