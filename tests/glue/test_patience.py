"""Patience before paying: with ``free_wait_seconds``, a call whose free candidates are only
full for a moment waits for the slot instead of buying from a paid provider; never longer than
its own patience, first come first served among waiters. Through a real manager and the
simulator on a FakeClock (the waits advance it; nothing sleeps)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmswitch._attempts import AttemptCore
from llmswitch._call import Call, Wait
from llmswitch._clock import FakeClock
from llmswitch._config import load_settings
from llmswitch._planning import Planner
from llmswitch._state import store_from_url
from llmswitch._types import ChatRequest, Message
from tests.glue.conftest import GlueFactory, keys_for

PRICES = '\n[providers.openai.prices]\n"gpt-4o-mini" = [1.0, 1.0]\n'
HI = [{"role": "user", "content": "hi"}]


def burst(glue: GlueFactory, wait: float) -> Any:
    """Groq (free) takes 2 a minute; OpenAI (paid) would take the third at once."""
    return glue(
        keys=keys_for("groq", "openai"),
        extra=f"free_wait_seconds = {wait}",
        providers={"groq": {"requests_per_minute": 2}},
        tail=PRICES,
    )


def test_without_patience_the_third_call_of_a_burst_is_bought(glue: GlueFactory, sim: Any) -> None:
    llm = burst(glue, 0)
    assert [llm.chat(HI).provider for _ in range(3)] == ["groq", "groq", "openai"]


def test_with_patience_it_waits_for_groqs_slot_and_pays_nothing(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    llm = burst(glue, 90)
    start = clock()
    results = [llm.chat(HI) for _ in range(3)]
    assert [r.provider for r in results] == ["groq"] * 3
    assert sim.requests("openai") == []
    assert 55 <= clock() - start <= 62, "it waited for the minute window, no longer"
    assert [a.outcome for a in results[2].attempts] == ["not_admitted", "ok"]
    assert llm.get_usage()["providers"].get("openai") is None


def test_patience_shorter_than_the_slot_buys_at_once(glue: GlueFactory, clock: FakeClock) -> None:
    llm = burst(glue, 90)
    start = clock()
    assert [llm.chat(HI, free_wait=30).provider for _ in range(3)] == ["groq", "groq", "openai"]
    assert clock() == start, "no wait was worth it"


def test_streams_and_the_async_twins_wait_too(glue: GlueFactory, sim: Any) -> None:
    llm = burst(glue, 90)
    llm.chat(HI)
    llm.chat(HI)
    chunks = list(llm.stream(HI))
    assert chunks[-1].result is not None and chunks[-1].result.provider == "groq"

    async def twice() -> list[str]:
        out = [(await llm.achat(HI)).provider, (await llm.achat(HI)).provider]
        out.append((await llm.achat(HI)).provider)  # the minute is full again: it waits
        await llm.aclose()
        return out

    assert asyncio.run(twice()) == ["groq", "groq", "groq"]
    assert sim.requests("openai") == []


def test_waiters_wake_in_arrival_order() -> None:
    """Two calls waiting for the same slot: the first to wait wakes first (and takes it)."""
    env = {**keys_for("groq", "openai")}
    settings = load_settings(env=env, dotenv=None).model_copy(update={"free_wait_seconds": 90.0})
    groq = settings.provider("groq").model_copy(update={"requests_per_minute": 1})
    settings = settings.model_copy(
        update={"providers": tuple(groq if p.name == "groq" else p for p in settings.providers)}
    )
    clock = FakeClock()
    core = AttemptCore(settings, store_from_url("memory://"), clock=clock)
    plan = Planner(settings).plan(None)
    request = ChatRequest(messages=(Message("user", "hi"),))
    core.admission.admit(plan[0], 10, 0)  # groq's one request this minute is taken
    first, second = Call(core, request, plan), Call(core, request, plan)
    a, b = first.next(), second.next()
    assert isinstance(a, Wait) and isinstance(b, Wait)
    assert b.seconds == pytest.approx(a.seconds + 0.001), "the later waiter wakes after"
    assert len(core.free_waiters) == 2
