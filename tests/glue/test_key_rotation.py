"""Several keys per provider: each call starts at the next key, and each key keeps its own limits.

Read both sides: ``Attempt.key_alias`` (which environment variable's key llmswitch used) and the
simulator's own log of which key each request arrived with (the key's last four characters).
"""

from __future__ import annotations

import collections
from typing import Any

import pytest

from llmswitch import LLMProviderManager
from llmswitch._clock import FakeClock
from tests.conftest import sent_429
from tests.glue.conftest import GROQ_KEYS, GlueFactory, ask, keys_for

K1, K2, K3 = "GROQ_API_KEY", "GROQ_API_KEY_2", "GROQ_API_KEY_3"


def aliases(llm: LLMProviderManager, calls: int) -> list[str]:
    out = []
    for n in range(calls):
        result = ask(llm, f"call {n}")
        assert result.provider == "groq"
        out.append(result.attempts[-1].key_alias)
    return out


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({K1: GROQ_KEYS[K1]}, [K1, K1, K1], id="one-key"),
        pytest.param(
            {K1: GROQ_KEYS[K1], K2: GROQ_KEYS[K2]}, [K1, K2, K1, K2], id="two-keys-alternate"
        ),
        pytest.param(GROQ_KEYS, [K1, K2, K3, K1, K2, K3], id="three-keys-in-turn"),
        # The same value twice is one key, not two turns of it.
        pytest.param({K1: GROQ_KEYS[K1], K2: GROQ_KEYS[K1]}, [K1, K1], id="duplicate-value"),
    ],
)
def test_each_call_starts_at_the_next_key(
    glue: GlueFactory, sim: Any, env: dict[str, str], expected: list[str]
) -> None:
    llm = glue(keys=keys_for("gemini", **env))
    assert aliases(llm, len(expected)) == expected
    arrived = collections.Counter(r["key"] for r in sim.requests("groq"))
    want = collections.Counter(env[alias][-4:] for alias in expected)
    assert arrived == want, "the simulator saw the keys llmswitch says it used"


def test_gemini_reads_both_of_its_key_variables_as_two_keys(glue: GlueFactory, sim: Any) -> None:
    llm = glue(
        keys={"GEMINI_API_KEY": "AIzaSy_gemini_key_A_0011", "GOOGLE_API_KEY": "AIzaSy_B_0022"}
    )
    served = [ask(llm, f"call {n}").attempts[-1].key_alias for n in range(4)]
    assert served == ["GEMINI_API_KEY", "GOOGLE_API_KEY"] * 2
    assert collections.Counter(r["key"] for r in sim.requests("gemini")) == {"0011": 2, "0022": 2}


def test_each_key_has_its_own_window_so_three_keys_triple_the_minute(
    glue: GlueFactory, sim: Any, clock: FakeClock
) -> None:
    sim.set_limits("groq", rpm=2)  # the provider's own per-key limit
    llm = glue(keys=keys_for("gemini", **GROQ_KEYS), providers={"groq": {"requests_per_minute": 2}})
    served = [ask(llm, f"call {n}").provider for n in range(7)]
    assert served == ["groq"] * 6 + ["gemini"]
    assert collections.Counter(r["key"] for r in sim.requests("groq")) == {
        "0001": 2,
        "0002": 2,
        "0003": 2,
    }
    assert sent_429(sim, "groq") == 0
    clock.advance(61.0)
    assert ask(llm).provider == "groq"


def test_a_refused_key_is_skipped_and_the_others_keep_serving(glue: GlueFactory, sim: Any) -> None:
    sim.revoke_key("groq", GROQ_KEYS[K2])
    llm = glue(keys=keys_for("gemini", **GROQ_KEYS))
    results = [ask(llm, f"call {n}") for n in range(6)]
    assert [r.provider for r in results] == ["groq"] * 6
    assert [r.attempts[-1].key_alias for r in results] == [K1, K3, K3, K1, K3, K3]
    assert [a.outcome for a in results[1].attempts] == ["auth_failed", "ok"]
