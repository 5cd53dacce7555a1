"""Admission and every reporter take one decision (``_availability.decide``), through a real
manager and the simulator: whatever admission skips, ``get_provider_status()``,
``current_provider()`` and ``get_client()`` do not offer, and the other way round."""

from __future__ import annotations

from typing import Any

from llmswitch._clock import FakeClock
from llmswitch._quota import provider_scope
from llmswitch._tokens import COMPLETION_ESTIMATE
from tests.glue.conftest import GlueFactory, ask, keys_for
from tests.glue.test_admission_limits import paid


def agree(llm: Any, served_by: str, skipped: str, word: str) -> None:
    status = llm.get_provider_status()
    assert status["providers"][skipped]["status"] == word
    assert status["current_provider"] == served_by
    assert llm.current_provider() == served_by
    _client, model = llm.get_client()
    assert model == status["providers"][served_by]["default_model"]


def test_a_paid_provider_is_offered_exactly_while_its_budget_pays_for_a_call(
    glue: GlueFactory,
) -> None:
    """The status calls a budget spent when it cannot pay for the smallest call (no
    ``max_tokens``): then such a call goes elsewhere, and before, it goes to the paid one."""
    prices = '\n[providers.openai.prices]\n"gpt-4o-mini" = [10.0, 10.0]\n'
    llm = paid(glue, 0.0115, "together", prices=prices)  # a smallest call's worst: $0.01031
    seen = []
    for n in range(12):
        word = llm.get_provider_status()["providers"]["openai"]["status"]
        # the smallest call: one empty message, the completion admission assumes without a cap
        result = llm.chat([{"role": "user", "content": ""}], max_tokens=COMPLETION_ESTIMATE)
        assert (result.provider == "openai") == (word == "available"), (n, word, result.provider)
        seen.append(word)
    assert "available" in seen and seen[-1] == "budget_exhausted"
    agree(llm, "together", "openai", "budget_exhausted")


def test_a_key_the_provider_refused_is_skipped_and_reported(glue: GlueFactory, sim: Any) -> None:
    llm = glue(keys=keys_for("groq", "gemini"))
    sim.revoke_key("groq", keys_for("groq")["GROQ_API_KEY"])
    first = ask(llm)
    assert (first.provider, first.attempts[0].outcome) == ("gemini", "auth_failed")
    sent = len(sim.requests("groq"))
    second = ask(llm)
    assert (second.provider, second.attempts[0].outcome) == ("gemini", "key_refused")
    assert second.attempts[0].sent is False and len(sim.requests("groq")) == sent
    agree(llm, "gemini", "groq", "auth_failed")


def test_a_half_open_provider_whose_key_is_full_keeps_no_probe(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    """Bug fixed: admission took the recovery probe, then found the key's window full and
    skipped it still holding the probe, so no process could probe for ``timeout + 5`` s."""
    llm = glue(keys=keys_for("groq", "gemini"), providers={"groq": {"requests_per_minute": 1}})
    assert ask(llm).provider == "groq"  # groq's one request this minute
    sim.set_fault("groq", {"kind": "status", "status": 503, "count": 1})
    llm.store.trip(
        provider_scope("groq"), until=clock() + 5, kind="connection", message="x", now=clock()
    )
    clock.advance(6)  # half-open; the minute window still holds the first request
    assert ask(llm).provider == "gemini"
    assert llm.store.try_acquire_probe(provider_scope("groq"), now=clock(), ttl=60), (
        "the skip gave the probe back"
    )
